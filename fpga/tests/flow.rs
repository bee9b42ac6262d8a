//! The real flows, end to end: Yosys, nextpnr and the packer on the smallest chip. A missing
//! tool fails the test with the command that installs it.

use fpga::{Device, Options, Report};
use isa::HwConfig;

// The configs the generator's tests name, defined once there.
#[path = "../../rtl-gen/tests/common/mod.rs"]
mod configs;

/// Two lanes and one of everything: the smallest chip the generator makes.
fn narrow() -> HwConfig {
    configs::config("narrow")
}

fn synthesize(cfg: &HwConfig, device: &str, cache: &std::path::Path) -> (Report, bool) {
    synthesize_on(cfg, device, None, cache)
}

fn synthesize_on(
    cfg: &HwConfig,
    device: &str,
    board: Option<fpga::OnBoard>,
    cache: &std::path::Path,
) -> (Report, bool) {
    let options = Options {
        device: Device::named(device).unwrap(),
        board,
        clock_mhz: None,
        placer: fpga::Placer::Heap,
        seed: 1,
        cache_root: cache.to_path_buf(),
    };
    let mut steps = Vec::new();
    let done = fpga::synthesize(cfg, &options, &mut |s| steps.push(s.to_string()))
        .unwrap_or_else(|e| panic!("{e}"));
    if !done.cached {
        assert!(steps[0].starts_with("yosys"), "{steps:?}");
    }
    (done.report, done.cached)
}

fn resource<'a>(report: &'a Report, cell: &str) -> &'a fpga::Resource {
    report
        .utilisation
        .iter()
        .find(|r| r.cell == cell)
        .unwrap_or_else(|| panic!("no {cell} in {:?}", report.utilisation))
}

/// The ECP5 flow (`metronome synth --board ulx3s-25f`) places and routes the smallest chip
/// behind the ULX3S's board top (its PLL, UART bridge and LEDs, on the board's pins), times
/// it against the clock the PLL makes and packs a bitstream; a second run is a cache hit with
/// the same report.
#[test]
fn ecp5_flow_places_routes_and_times_the_chip_on_the_ulx3s() {
    let cache = tempfile::tempdir().unwrap();
    let cfg = narrow();
    let board = fpga::OnBoard {
        board: fpga::Board::named("ulx3s-25f").unwrap(),
        baud: fpga::DEFAULT_BAUD,
    };
    let (report, cached) = synthesize_on(&cfg, "ecp5-25f", Some(board), cache.path());
    assert!(!cached);
    let table = report.table();
    assert!(report.fits, "{table}");
    let luts = resource(&report, "TRELLIS_COMB");
    assert_eq!(luts.available, 24288, "the 25F's LUT4s");
    assert!(luts.used > 1000, "{luts:?}");
    assert!(resource(&report, "MULT18X18D").used > 0);
    assert_eq!(resource(&report, "EHXPLLL").used, 1, "{table}");
    // The clock's global network and the reset's (`mtn_global`).
    assert_eq!(resource(&report, "DCCA").used, 2, "{table}");
    assert!(table.contains("board ulx3s-25f"), "{table}");
    // Clock, serial in and out, button, eight LEDs and the pin tied high (wifi_gpio0).
    assert_eq!(resource(&report, "TRELLIS_IO").used, 13, "{table}");
    // The PLL makes the 60 MHz asked of the 25 MHz oscillator exactly (x 12 / 5).
    assert_eq!(report.requested_mhz, 60.0);
    let fmax = report.fmax_mhz.expect("a routed design has an Fmax");
    assert!((5.0..500.0).contains(&fmax), "{fmax} MHz");
    let path = report.critical_path.as_ref().expect("a critical path");
    assert!(path.delay_ns > 0.0 && path.logic_levels > 0, "{path:?}");
    assert!(
        (1000.0 / path.delay_ns - fmax).abs() < 0.05 * fmax,
        "the critical path ({} ns) sets the Fmax ({fmax} MHz)",
        path.delay_ns
    );
    assert_eq!(report.bitstream.as_deref(), Some("chip.bit"));
    let entry = std::fs::read_dir(cache.path().join("synth"))
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let bits = std::fs::metadata(entry.join("chip.bit")).unwrap().len();
    assert!(bits > 100_000, "a 25F bitstream of {bits} bytes");
    assert!(entry.join("ulx3s-25f.lpf").is_file());

    let (again, cached) = synthesize_on(&cfg, "ecp5-25f", Some(board), cache.path());
    assert!(cached);
    assert_eq!(again, report);
}

/// A chip too large for the UP5K is reported with every resource against the part, the ones
/// over named, and nothing placed.
#[test]
fn ice40_flow_reports_what_does_not_fit() {
    let cache = tempfile::tempdir().unwrap();
    let (report, _) = synthesize(&narrow(), "up5k", cache.path());
    assert!(!report.fits);
    let cells = resource(&report, "ICESTORM_LC");
    assert_eq!(cells.available, 5280);
    assert!(cells.used > cells.available, "{cells:?}");
    assert_eq!(resource(&report, "ICESTORM_DSP").available, 8);
    assert_eq!(resource(&report, "ICESTORM_SPRAM").available, 4);
    assert_eq!(report.fmax_mhz, None);
    assert_eq!(report.bitstream, None);
    let why = report.failure().unwrap();
    assert!(
        why.contains("does not fit the up5k") && why.contains("logic cells"),
        "{why}"
    );
    assert!(report.table().contains("OVER"));
}

/// `metronome synth --board icebreaker --preset up5k`: the chip behind the board top (PLL,
/// UART, UARTBone bridge, LEDs) on the iCEBreaker's pins fits the UP5K and meets the 30 MHz
/// its PLL makes, from nextpnr's routed report, and the bitstream is there. Every multiplier
/// is on a hand-instantiated SB_MAC16 (two PE cells and RQ's four partial products), the
/// instructions are in SPRAM, and every path is timed: no DSP is left combinational, whose
/// ports nextpnr-ice40 would time as registers of a constant clock (the report's untimed
/// domains, read in `report.rs`'s tests). No test places `--device`'s top (the chip alone,
/// its host port on pins): the same flow with another top, whose numbers are in
/// BENCHMARKS.md.
#[test]
fn the_icebreaker_bitstream_of_the_up5k_preset_fits_and_meets_its_pll_clock() {
    let cache = tempfile::tempdir().unwrap();
    let board = fpga::OnBoard {
        board: fpga::Board::named("icebreaker").unwrap(),
        baud: fpga::DEFAULT_BAUD,
    };
    let cfg = HwConfig::preset("up5k").unwrap();
    let (report, _) = synthesize_on(&cfg, "up5k", Some(board), cache.path());
    let table = report.table();
    assert!(report.passes(), "{table}");
    let on_board = report.board.as_ref().unwrap();
    assert_eq!((on_board.clock_mhz, on_board.baud), (30.0, 115_200));
    // Passing is fitting, meeting the clock asked and every path timed.
    assert_eq!(report.requested_mhz, 30.0);
    assert!(!table.contains("NOT TIMED"));
    assert_eq!(resource(&report, "ICESTORM_PLL").used, 1, "{table}");
    assert_eq!(resource(&report, "ICESTORM_DSP").used, 6, "{table}");
    assert_eq!(resource(&report, "ICESTORM_SPRAM").used, 3, "{table}");
    // Clock, serial in and out, button, two LEDs.
    assert_eq!(resource(&report, "SB_IO").used, 6, "{table}");
    assert!(table.contains("board icebreaker"), "{table}");
    let entry = std::fs::read_dir(cache.path().join("synth"))
        .unwrap()
        .flatten()
        .find(|e| {
            // Beside the entry is its lock file, of the same name.
            e.path().is_dir()
                && e.file_name()
                    .to_string_lossy()
                    .starts_with("icebreaker-up5k-")
        })
        .expect("the board's cache entry");
    let bitstream = std::fs::metadata(entry.path().join("chip.bin")).unwrap();
    // An iCE40 UP5K bitstream is 104,090 bytes.
    assert!(bitstream.len() > 100_000, "{}", bitstream.len());
    assert!(entry.path().join("icebreaker.pcf").is_file());
}

#[test]
fn a_placer_the_family_lacks_is_an_error_before_any_tool_runs() {
    let options = Options {
        device: Device::named("up5k").unwrap(),
        board: None,
        clock_mhz: None,
        placer: fpga::Placer::Static,
        seed: 1,
        cache_root: std::env::temp_dir().join("metronome-no-cache"),
    };
    let e = fpga::synthesize(&HwConfig::preset("up5k").unwrap(), &options, &mut |s| {
        panic!("a step ran: {s}")
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the up5k has no static placer in this flow (its nextpnr's: heap)"
    );
}
