use escape_lab::{Lab, Scenario};

#[global_allocator]
static ALLOC: escape_lab::Alloc = escape_lab::Alloc;

fn main() -> std::process::ExitCode {
    Lab::new(vec![Scenario::new("two_loops", || {
        let mut seed = 1u64;
        move || {
            seed = cpu_lines::two_loops(seed);
        }
    })])
    .main()
}
