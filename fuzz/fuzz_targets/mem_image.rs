//! The memory-image reader, for each preset: any bytes are an image or an error, and an image
//! read writes back to bytes that read as the same image.
#![no_main]

use isa::{HwConfig, MemImage, PRESETS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [preset, bytes @ ..] = data else {
        return;
    };
    let cfg = HwConfig::preset(PRESETS[*preset as usize % PRESETS.len()]).expect("a preset");
    if let Ok(image) = MemImage::from_bytes(bytes, &cfg) {
        let again = MemImage::from_bytes(&image.to_bytes(&cfg), &cfg).expect("reads back");
        assert_eq!(again, image);
    }
});
