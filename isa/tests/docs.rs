//! The ISA reference in docs/ must show the op table generated from the one op definition.

#[test]
fn docs_isa_md_has_the_generated_op_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/isa.md");
    let doc = std::fs::read_to_string(path).expect("docs/isa.md exists");
    let table = isa::ops::reference_table();
    assert!(
        doc.contains(&table),
        "docs/isa.md is out of date; replace its op table with:\n{table}"
    );
}
