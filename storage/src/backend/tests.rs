use super::pg::pg_sql;
use super::*;

#[test]
fn placeholders_are_rewritten_once() {
    assert_eq!(
        pg_sql("SELECT a FROM t WHERE x = ?1 AND (?12 IS NULL OR y = ?12)"),
        "SELECT a FROM t WHERE x = $1 AND ($12 IS NULL OR y = $12)"
    );
}

#[test]
fn the_label_never_shows_the_password() {
    let c: postgres::Config = "postgres://ann:hunter2@db.example:6543/crier"
        .parse()
        .expect("url");
    assert_eq!(label(&c), "db.example:6543/crier");
}
