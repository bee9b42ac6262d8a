//! The cache: hits, failed and interrupted builds, damaged entries.

use std::fs;

use dircache::{cached, Outcome};

fn build_ok(dir: &std::path::Path) -> Result<(), String> {
    fs::create_dir_all(dir.join("obj")).unwrap();
    fs::write(dir.join("libmodel.a"), b"model").unwrap();
    fs::write(dir.join("obj/a.o"), b"object").unwrap();
    Ok(())
}

#[test]
fn a_second_build_of_the_same_entry_is_a_hit() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("tiny-0123");
    assert_eq!(cached(&dir, build_ok), Ok(Outcome::Built));
    assert_eq!(
        cached(&dir, |_| panic!("a hit must not build")),
        Ok(Outcome::Hit)
    );
    assert_eq!(fs::read(dir.join("libmodel.a")).unwrap(), b"model");
}

#[test]
fn a_failed_or_interrupted_build_leaves_no_entry() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("tiny-0123");
    let failed = cached(&dir, |tmp| {
        fs::write(tmp.join("half.o"), b"half").unwrap();
        Err("the compiler failed".into())
    });
    assert_eq!(failed, Err("the compiler failed".into()));
    assert!(!dir.exists());
    // A build killed midway leaves only its temporary directory, which is never used.
    let killed = dir.with_extension("tmp999999");
    fs::create_dir_all(&killed).unwrap();
    fs::write(killed.join("half.o"), b"half").unwrap();
    // An entry directory without a manifest (as if a rename raced a crash) is rebuilt.
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("libmodel.a"), b"half").unwrap();
    match cached(&dir, build_ok) {
        Ok(Outcome::Rebuilt(why)) => assert!(why.contains("no manifest"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fs::read(dir.join("libmodel.a")).unwrap(), b"model");
    assert!(
        !killed.exists(),
        "the killed build's leftovers are cleaned up"
    );
}

#[test]
fn a_damaged_entry_is_noticed_and_rebuilt() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("tiny-0123");
    cached(&dir, build_ok).unwrap();
    fs::write(dir.join("obj/a.o"), b"garbage").unwrap();
    match cached(&dir, build_ok) {
        Ok(Outcome::Rebuilt(why)) => assert!(why.contains("obj/a.o"), "{why}"),
        other => panic!("{other:?}"),
    }
    fs::remove_file(dir.join("libmodel.a")).unwrap();
    assert!(matches!(cached(&dir, build_ok), Ok(Outcome::Rebuilt(_))));
    fs::write(dir.join("stray"), b"?").unwrap();
    match cached(&dir, build_ok) {
        Ok(Outcome::Rebuilt(why)) => assert!(why.contains("does not list"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(cached(&dir, build_ok), Ok(Outcome::Hit));
}
