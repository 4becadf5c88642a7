//! Tests of the fakes: each behaviour through plain HTTP (reqwest), and the
//! answers through teloxide and serenity, which Crier uses.

mod discord;
mod discord_files;
mod discord_gateway;
mod discord_serenity;
mod support;
mod telegram;
mod telegram_album;
mod telegram_files;
mod telegram_teloxide;
