//! The FPGA parts the flow targets: one definition of each, with what its tools need.

use serde::{Deserialize, Serialize};

/// A family of parts, with its open flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Lattice iCE40: Debian's Yosys, nextpnr-ice40 and icepack.
    Ice40,
    /// Lattice ECP5: Debian's Yosys, YoWASP's nextpnr-ecp5 and ecppack (Debian has none).
    Ecp5,
}

/// nextpnr's placer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placer {
    /// Analytic placement (HeAP), then annealing: nextpnr's default.
    #[default]
    Heap,
    /// Electrostatic placement, then annealing: nextpnr-ecp5 0.11 has it, Debian's
    /// nextpnr-ice40 0.4 does not. On the ULX3S board top of `small`, whose pins pin the
    /// analytic placer's start to a corner of the die, it placed with 30 % less wire.
    Static,
}

impl Placer {
    pub const ALL: [Placer; 2] = [Placer::Heap, Placer::Static];

    /// Its name, as nextpnr's `--placer` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Placer::Heap => "heap",
            Placer::Static => "static",
        }
    }

    /// The placer called `name`, or an error listing them.
    pub fn named(name: &str) -> Result<Placer, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
                format!("no placer {name:?}; nextpnr's are {}", names.join(", "))
            })
    }
}

impl Family {
    /// The placers its nextpnr has.
    pub fn placers(self) -> &'static [Placer] {
        match self {
            Family::Ice40 => &[Placer::Heap],
            Family::Ecp5 => &Placer::ALL,
        }
    }

    /// Its directory in Yosys's data (cell libraries and simulation models).
    pub fn yosys_dir(self) -> &'static str {
        match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        }
    }

    /// The macros its simulation models need: Yosys's iCE40 models give ports default values
    /// (SystemVerilog) unless told not to.
    pub fn simulation_defines(self) -> &'static [&'static str] {
        match self {
            Family::Ice40 => &["NO_ICE40_DEFAULT_ASSIGNMENTS"],
            Family::Ecp5 => &[],
        }
    }

    /// The hand-written cells its designs are built on.
    pub fn cells(self) -> rtl_gen::Cells {
        match self {
            Family::Ice40 => rtl_gen::Cells::Ice40,
            Family::Ecp5 => rtl_gen::Cells::Ecp5,
        }
    }

    /// The Yosys commands that synthesize `top` of `cfg`'s chip, one a line as in a script file
    /// (after `yosys -p`, only `;` ends a command), without the command that writes the output.
    pub fn synthesis(self, cfg: &isa::HwConfig, top: &str) -> String {
        match self {
            // -dsp puts multiplies on SB_MAC16s, but its ice40_dsp pass also rewrites the
            // SB_MAC16s of the hand-written cells, dropping their registers and clock (Yosys
            // 0.23 and 0.70; docs/fpga.md): with registered products, the cells are the DSPs.
            // -spram: read-or-write memories on SPRAM.
            Family::Ice40 if cfg.chip.registered_products => {
                format!("synth_ice40 -spram -top {top}")
            }
            Family::Ice40 => format!("synth_ice40 -dsp -spram -top {top}"),
            // The reset inverters synth_ecp5 gives each flip-flop, merged before LUT mapping:
            // unmerged, no two flip-flops share a logic tile (docs/fpga.md). An option of the
            // first call that acts from map_luts on must be repeated in the second.
            Family::Ecp5 => {
                format!(
                    "synth_ecp5 -top {top} -run :map_luts\nopt_merge\nsynth_ecp5 -run map_luts:"
                )
            }
        }
    }

    /// nextpnr's option for the placed and routed design, and the file it writes.
    pub fn placed(self) -> (&'static str, &'static str) {
        match self {
            Family::Ice40 => ("--asc", "chip.asc"),
            Family::Ecp5 => ("--textcfg", "chip.config"),
        }
    }

    /// nextpnr's option for a pin file.
    pub fn pin_file_flag(self) -> &'static str {
        match self {
            Family::Ice40 => "--pcf",
            Family::Ecp5 => "--lpf",
        }
    }

    /// The bitstream the packer makes of the placed design.
    pub fn bitstream(self) -> &'static str {
        match self {
            Family::Ice40 => "chip.bin",
            Family::Ecp5 => "chip.bit",
        }
    }
}

/// One part in one package.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Device {
    /// The name `--device` takes.
    pub name: &'static str,
    /// The vendor's part number.
    pub part: &'static str,
    pub family: Family,
    /// The board this package is chosen for.
    pub board: &'static str,
    /// nextpnr's part and package options.
    #[serde(skip)]
    pub nextpnr_args: &'static [&'static str],
    /// The clock asked of nextpnr when none is given: the clock this project means the part
    /// to run at, not the board's oscillator (a PLL makes the one from the other).
    pub default_clock_mhz: f64,
}

/// Every part `--device` accepts.
pub const DEVICES: [Device; 4] = [
    Device {
        name: "up5k",
        part: "iCE40UP5K-SG48",
        family: Family::Ice40,
        board: "iCEBreaker",
        nextpnr_args: &["--up5k", "--package", "sg48"],
        default_clock_mhz: 30.0,
    },
    Device {
        name: "ecp5-25f",
        part: "LFE5U-25F-6BG381C",
        family: Family::Ecp5,
        board: "ULX3S",
        nextpnr_args: &["--25k", "--package", "CABGA381", "--speed", "6"],
        default_clock_mhz: 60.0,
    },
    Device {
        name: "ecp5-45f",
        part: "LFE5U-45F-6BG381C",
        family: Family::Ecp5,
        board: "ULX3S",
        nextpnr_args: &["--45k", "--package", "CABGA381", "--speed", "6"],
        default_clock_mhz: 60.0,
    },
    Device {
        name: "ecp5-85f",
        part: "LFE5U-85F-6BG381C",
        family: Family::Ecp5,
        board: "ULX3S",
        nextpnr_args: &["--85k", "--package", "CABGA381", "--speed", "6"],
        default_clock_mhz: 60.0,
    },
];

impl Device {
    /// The part called `name`, or an error listing the parts there are.
    pub fn named(name: &str) -> Result<Device, String> {
        by_name(&DEVICES, name, |d| d.name, "device")
    }
}

/// The one of `items` whose `key` is `name` (in any case), or an error listing the `what`s
/// there are.
pub(crate) fn by_name<T: Copy>(
    items: &[T],
    name: &str,
    key: fn(&T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    items
        .iter()
        .find(|i| key(i).eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = items.iter().map(key).collect();
            format!(
                "unknown {what} {name:?}: the {what}s are {}",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_found_by_name_and_unknown_ones_listed() {
        assert_eq!(Device::named("ECP5-85F").unwrap().part, "LFE5U-85F-6BG381C");
        let e = Device::named("xc7a35t").unwrap_err();
        assert!(e.contains("up5k, ecp5-25f, ecp5-45f, ecp5-85f"), "{e}");
    }

    #[test]
    fn placers_are_found_by_name_and_each_family_has_its_own() {
        assert_eq!(Placer::named("static"), Ok(Placer::Static));
        let e = Placer::named("sa").unwrap_err();
        assert!(e.contains("heap, static"), "{e}");
        assert_eq!(Family::Ice40.placers(), [Placer::Heap]);
        assert!(Family::Ecp5.placers().contains(&Placer::Static));
    }
}
