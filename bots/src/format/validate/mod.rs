//! Strict validators of each platform's output. Used by the formatter's
//! tests and by the fake servers in `tests/fakes`, which reject what the
//! real platforms would reject, with the real error texts.
//!
//! **Telegram.** [`telegram_text`] implements the Bot API HTML parser the
//! way TDLib does (`td/telegram/MessageEntity.cpp`, `parse_html`): the
//! same tag set, attribute syntax, entity decoding, nesting rules and error
//! texts (`Unsupported start tag "div" at byte offset 0`, `Unmatched end
//! tag …`, `Can't find end tag corresponding to start tag "b"`…), then
//! counts UTF-16 units of the resulting text. On top of what Telegram
//! rejects, it also rejects what Telegram would silently *alter*, so that
//! a renderer bug cannot hide; those messages end with
//! `(crier strict check)`:
//! a `&` that starts no entity (Telegram shows it literally), a named
//! entity other than `&lt; &gt; &amp; &quot;`, any tag inside
//! `<code>`/`<pre>` (except `<code>` directly in `<pre>`), nested
//! `<blockquote>`s or links, `<a>` without a non-empty absolute
//! `http(s)`/`tg`/`mailto` `href`.
//!
//! **Discord.** [`discord_message`] checks every documented limit and
//! answers with a body shaped like Discord's 50035 "Invalid Form Body"
//! (or 50006 "Cannot send an empty message"). Lengths are counted in
//! UTF-16 units, which is never less than Discord's own character count,
//! so whatever passes here passes there.

mod discord;
mod telegram;
mod telegraph;

pub use discord::*;
pub use telegram::*;
pub use telegraph::*;
