fn main() {
    println!("mmsleak {}", env!("CARGO_PKG_VERSION"));
}
