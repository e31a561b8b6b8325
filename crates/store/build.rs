// The migrations are embedded with `sqlx::migrate!`; rebuild when they change
// (stable Rust does not track files read by proc macros).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
