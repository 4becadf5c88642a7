//! `crier-fuzz-afl TARGET`: the AFL++ harness of one fuzz target (reads
//! inputs from AFL). `crier-fuzz-afl seeds TARGET DIR`: write the target's
//! seed corpus and regressions into DIR (AFL's `-i`). `crier-fuzz-afl dict
//! FILE`: write the token dictionary (AFL's `-x`). See FUZZING.md.

use crier_fuzz::Target;

fn usage() -> ! {
    let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    eprintln!(
        "usage: crier-fuzz-afl TARGET | crier-fuzz-afl seeds TARGET DIR | crier-fuzz-afl dict FILE\ntargets: {}",
        names.join(", ")
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, name, dir] if cmd == "seeds" => {
            let Some(t) = Target::from_name(name) else { usage() };
            match crier_fuzz::corpus::export(t, std::path::Path::new(dir)) {
                Ok(n) => println!("{n} seeds of {name} written to {dir}"),
                Err(e) => {
                    eprintln!("{dir}: {e}");
                    std::process::exit(1);
                }
            }
        }
        [cmd, file] if cmd == "dict" => {
            if let Err(e) = crier_fuzz::corpus::export_dictionary(std::path::Path::new(file)) {
                eprintln!("{file}: {e}");
                std::process::exit(1);
            }
        }
        [name] => {
            let Some(t) = Target::from_name(name) else { usage() };
            // No panic hook: Crier contains some library panics itself
            // (feed-rs under `catch_unwind`); only a panic that escapes the
            // target is a crash (the macro aborts on it).
            afl::fuzz_nohook!(|data: &[u8]| {
                t.run(data);
            });
        }
        _ => usage(),
    }
}
