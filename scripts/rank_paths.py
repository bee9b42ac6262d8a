#!/usr/bin/env python3
"""Rank the slow paths of a Yosys ECP5 netlist before nextpnr can route it.

    python3 scripts/rank_paths.py NETLIST.json [--top mtn_board_top] [--mhz 60]
        [--net-ns 1.6] [--placed PLACED.json] [--groups 30] [--path SUBSTRING] [--cut REGEX]

nextpnr-ecp5 prints a critical path only after routing, and routing a chip the size of
`small` on the 85F takes hours in YoWASP's single-threaded nextpnr. This script reads the
netlist the flow writes (`netlist.json` in a `metronome synth` work directory) and computes
each flip-flop's, block RAM's and output's latest arrival with a fixed delay per cell and per
net, then prints the endpoints over the requested period grouped by name (bit and instance
numbers folded), each with where its slowest path starts.

It is a model, not a measurement: the cell delays are rounded ECP5 speed-6 figures and every
net between slices costs `--net-ns`. With 1.6 ns a net it put `small`'s board top (`1de7e0d`
with the permute fix) at 32.2 MHz where nextpnr's estimate after placement was 31.5 MHz; use
it to rank and compare paths, and nextpnr's report for any number quoted as Fmax.

`--placed PLACED.json` (what `nextpnr-ecp5 --no-route --write PLACED.json` writes) prices
each net instead by the distance between its cells as placed, with the delay estimate in
nextpnr-ecp5's source (speed 6): the critical path after placement, which nextpnr reports
only as a frequency. It overprices long nets against nextpnr 0.11.1 (27.5 MHz modelled where
nextpnr estimated 38.4 on `small` at `c4b420d`): a ranking, not a measurement.

`--path` prints the slowest path into the first endpoint whose name contains SUBSTRING;
`--cut` treats the nets whose names match REGEX as registered (what-if: where a register on
those nets would move the worst path).
"""

import argparse
import collections
import json
import re

LUT_NS = 0.35
MUX_NS = 0.25  # PFUMX / L6MUX21, fed from its own slice
CARRY_NS = 0.06  # CIN -> COUT along a CCU2C chain
CARRY_IN_NS = 0.4  # an operand into the chain
CARRY_SUM_NS = 0.3  # CIN -> a sum
OPERAND_SUM_NS = 0.45  # an operand -> its sum
PLACED_TILE_NS = 0.12  # the unit of nextpnr-ecp5's estimateDelay at speed 6
FF_CLK_TO_Q_NS = 0.5
FF_SETUP_NS = 0.15
BRAM_CLK_TO_Q_NS = 4.0  # DP16KD without its output register
BRAM_SETUP_NS = 0.3
MULT_NS = 4.0  # MULT18X18D without its registers
CLOCKS = {"CLK0", "CLK1", "CLK2", "CLK3", "CE0", "CE1", "CE2", "CE3", "RST0", "RST1", "RST2", "RST3"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("netlist")
    ap.add_argument("--top", default="mtn_board_top")
    ap.add_argument("--mhz", type=float, default=60.0)
    ap.add_argument("--net-ns", type=float, default=1.6)
    ap.add_argument("--placed")
    ap.add_argument("--groups", type=int, default=30)
    ap.add_argument("--path")
    ap.add_argument("--cut")
    a = ap.parse_args()
    with open(a.netlist) as f:
        module = json.load(f)["modules"][a.top]
    wire = Wires(a.net_ns, a.placed and placement(a.placed))
    timing = Timing(module, wire, a.cut)
    period = 1000.0 / a.mhz
    ends = timing.endpoints()
    worst = ends[0][0]
    over = sum(1 for t, _ in ends if t > period)
    print(f"worst {worst:.2f} ns ({1000 / worst:.1f} MHz, modelled); "
          f"{over} endpoints over {period:.2f} ns ({a.mhz:g} MHz)")
    groups = collections.OrderedDict()
    for t, bit in ends:
        if t <= period or len(groups) >= a.groups and timing.group(bit) not in groups:
            continue
        g = groups.setdefault(timing.group(bit), [t, 0, bit])
        g[1] += 1
    for name, (t, count, bit) in groups.items():
        path = timing.path(bit)
        print(f"{t:6.2f} ns {count:5d} ends  {name[:72]:72s} from {timing.name(path[0])[:60]}")
    if a.path:
        bit = next((b for _, b in ends if a.path in timing.name(b)), None)
        if bit is None:
            raise SystemExit(f"no endpoint's name contains {a.path!r}")
        for b in timing.path(bit):
            print(f"  {timing.arrival[b]:6.2f}  {timing.name(b)[:100]:100s} {wire.where(timing.driver.get(b))}")


def placement(path):
    """Each placed cell's tile (x, y), by the name nextpnr gave it."""
    with open(path) as f:
        module = next(iter(json.load(f)["modules"].values()))
    tiles = {}
    for name, c in module["cells"].items():
        bel = c.get("attributes", {}).get("NEXTPNR_BEL", "")
        m = re.match(r"X(\d+)/Y(\d+)/", bel)
        if m:
            tiles[name] = (int(m.group(1)), int(m.group(2)))
    return tiles


class Wires:
    """What a net costs: a fixed delay, or, with a placement, nextpnr's estimate."""

    def __init__(self, net_ns, tiles):
        self.net_ns, self.tiles = net_ns, tiles or {}
        self.slice_of = {}  # a wide multiplexer -> a cell in its slice

    def tile(self, cell):
        # The packer keeps a cell's name, or adds a suffix to the cells it splits it into;
        # a wide multiplexer goes into the slice of the LUTs it chooses between.
        t = self.tiles.get(cell)
        if t is None and self.tiles:
            t = self.tiles.get(cell + "$CCU2_COMB0") or self.tiles.get(cell + "$CCU2_COMB1")
            if t is None and cell in self.slice_of:
                t = self.tile(self.slice_of[cell])
        return t

    def where(self, cell):
        t = cell and self.tile(cell)
        return f"X{t[0]}/Y{t[1]}" if t else ""

    def delay(self, driver, sink):
        a, b = driver and self.tile(driver), self.tile(sink)
        if not a or not b:
            return self.net_ns
        dx, dy = abs(a[0] - b[0]), abs(a[1] - b[1])
        return PLACED_TILE_NS * (6 + max(dx - 5, 0) + max(dy - 5, 0) + 2 * (min(dx, 5) + min(dy, 5)))


class Timing:
    def __init__(self, m, wire, cut):
        self.names = {}
        for n, v in m["netnames"].items():
            for i, b in enumerate(v["bits"]):
                named = self.names.get(b)
                if isinstance(b, int) and (named is None or named[0].startswith("$") and not n.startswith("$")):
                    self.names[b] = (n, i)
        self.wire = wire
        # input bit -> [(output bit, the cell's delay, the cell, whether the input is the
        # cell's own wire, so no net)]
        self.arcs = collections.defaultdict(list)
        self.driver = {}  # bit -> the cell that drives it
        self.start = {}  # bit -> launch time
        self.setup = collections.defaultdict(list)  # endpoint bit -> [(setup time, cell)]
        for name, c in m["cells"].items():
            self.add_cell(name, c)
        for name, c in m["cells"].items():
            inner = {"PFUMX": "ALUT", "L6MUX21": "D0"}.get(c["type"])
            if inner and c["connections"][inner][0] in self.driver:
                wire.slice_of[name] = self.driver[c["connections"][inner][0]]
        for p in m["ports"].values():
            if p["direction"] == "output":
                for b in bits_of(p["bits"]):
                    self.setup[b].append((0.0, None))
        if cut:
            rx = re.compile(cut)
            cutting = {b for n, v in m["netnames"].items() if rx.search(n) for b in bits_of(v["bits"])}
            for b in list(self.arcs):
                self.arcs[b] = [arc for arc in self.arcs[b] if arc[0] not in cutting]
            for b in cutting:
                self.setup[b].append((FF_SETUP_NS, None))
                self.start[b] = FF_CLK_TO_Q_NS
        self.propagate()

    def add_cell(self, name, c):
        kind, conn = c["type"], c["connections"]
        ins = [p for p, d in c["port_directions"].items() if d == "input"]
        outs = [p for p, d in c["port_directions"].items() if d == "output"]
        pins = lambda p: bits_of(conn.get(p, []))
        for q in outs:
            for b in pins(q):
                self.driver[b] = name

        def arc(p, delay, to, internal=False):
            for b in pins(p):
                self.arcs[b] += [(o, delay, name, internal) for q in to for o in pins(q)]

        def ends_at(p, setup):
            for b in pins(p):
                self.setup[b].append((setup, name))

        if kind == "LUT4":
            for p in ins:
                arc(p, LUT_NS, ["Z"])
        elif kind in ("PFUMX", "L6MUX21"):
            # ALUT/BLUT and D0/D1 come from the slice itself: no net.
            for p in ins:
                arc(p, MUX_NS, ["Z"], internal=p not in ("C0", "SD"))
        elif kind == "CCU2C":
            for p in ins:
                if p == "CIN":  # the chain's own wire
                    arc(p, CARRY_NS, ["COUT"], internal=True)
                    arc(p, CARRY_SUM_NS, ["S0", "S1"], internal=True)
                else:
                    arc(p, CARRY_IN_NS, ["COUT"])
                    arc(p, OPERAND_SUM_NS, ["S0", "S1"])
        elif kind == "MULT18X18D":
            for p in ins:
                if p not in CLOCKS:
                    arc(p, MULT_NS, outs)
        elif kind == "TRELLIS_FF":
            for b in pins("Q"):
                self.start[b] = FF_CLK_TO_Q_NS
            for p in ("DI", "M", "CE", "LSR"):
                ends_at(p, FF_SETUP_NS)
        elif kind == "DP16KD":
            for q in outs:
                for b in pins(q):
                    self.start[b] = BRAM_CLK_TO_Q_NS
            for p in ins:
                if not p.startswith("CLK"):
                    ends_at(p, BRAM_SETUP_NS)
        else:  # IO, PLL: launch at 0, end nowhere
            for q in outs:
                for b in pins(q):
                    self.start[b] = 0.0

    def net(self, bit, sink):
        return self.wire.delay(self.driver.get(bit), sink) if sink else self.wire.net_ns

    def propagate(self):
        fanin = collections.Counter(arc[0] for arcs in self.arcs.values() for arc in arcs)
        every = set(self.arcs) | set(fanin) | set(self.start) | set(self.setup)
        self.arrival, self.prev = {}, {}
        ready = collections.deque()
        for b in every:
            if fanin[b] == 0:
                self.arrival[b] = self.start.get(b, 0.0)
                ready.append(b)
        while ready:
            b = ready.popleft()
            for o, delay, cell, internal in self.arcs.get(b, []):
                t = self.arrival[b] + delay + (0.0 if internal else self.net(b, cell))
                if t > self.arrival.get(o, -1.0):
                    self.arrival[o], self.prev[o] = t, b
                fanin[o] -= 1
                if fanin[o] == 0:
                    ready.append(o)
        looped = sum(1 for b in every if fanin[b] > 0)
        if looped:
            print(f"warning: {looped} bits on combinational loops are left out")

    def endpoints(self):
        ends = [(max(self.arrival[b] + self.net(b, cell) + s for s, cell in sinks), b)
                for b, sinks in self.setup.items() if b in self.arrival]
        return sorted(ends, reverse=True)

    def path(self, bit):
        chain = [bit]
        while chain[-1] in self.prev:
            chain.append(self.prev[chain[-1]])
        return chain[::-1]

    def name(self, bit):
        n, i = self.names.get(bit, ("?", 0))
        return f"{n}[{i}]"

    def group(self, bit):
        return re.sub(r"\[\d+\]", "", re.sub(r"\d+", "#", self.name(bit)))


def bits_of(bits):
    return [b for b in bits if isinstance(b, int)]


if __name__ == "__main__":
    main()
