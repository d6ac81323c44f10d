//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds the files at compile
//! time, and stable Rust cannot tell Cargo about them from the macro.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
