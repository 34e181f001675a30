//! Without escape-lab's allocator, the assertion refuses to report a
//! meaningless zero and says how to install it.

#[test]
fn without_the_allocator_the_assertion_says_how_to_install_it() {
    let err = std::panic::catch_unwind(|| escape_lab::allocs_per_run(1, || vec![1u8]))
        .expect_err("must not count without the allocator");
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        msg.contains("static ALLOC: escape_lab::Alloc = escape_lab::Alloc"),
        "{msg}"
    );
}
