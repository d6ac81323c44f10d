//! The `shura` binary: a thin shim over [`shura::cli`].

// mimalloc rather than the system allocator: profiles of the server, rebuilds and imports spent
// a fifth of their time in glibc's malloc and free (see the README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    shura::cli::main().await
}
