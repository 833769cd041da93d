#!/usr/bin/env bash
# EIO in container metadata, read while the chain is opened: a dynamic
# VHD's BAT, then a VHDX's first header.  The disk is unassessable with
# DISK-IO (layer 0, "container metadata", the offset inside the fault) and
# an error, never CONT-*, DISK-UNREADABLE or any corruption finding; each
# disk without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"

# VHD: the dynamic disk header (footer copy at 0, header at 512) gives the
# BAT's offset, big-endian at byte 16 of the header (VHD spec, "Dynamic
# Disk Header Format")
gen "$W/v" --scenarios clean --format vhd
bat=$(python3 -c '
import struct, sys
h = open(sys.argv[1], "rb").read(1024)
assert h[512:520] == b"cxsparse", "not a dynamic VHD"
print(struct.unpack(">Q", h[528:536])[0])' "$W/v/clean.vhd") || { fail "no dynamic VHD header"; finish; }
ok "VHD BAT at byte $bat"
ff_mount "$W/v"
expect_clean clean.vhd
ff_mount "$W/v" --eio "clean.vhd:$bat:512"
scan_ff clean.vhd
expect_io clean.vhd 0 EIO "$bat" 512 "container metadata"

# VHDX: header 1 at 64 KiB (MS-VHDX 2.2.2); the parser could fall back on
# header 2, but the bytes it could not read must not become a finding
gen "$W/x" --scenarios clean --format vhdx
ff_mount "$W/x"
expect_clean clean.vhdx
ff_mount "$W/x" --eio "clean.vhdx:65536:4096"
scan_ff clean.vhdx
expect_io clean.vhdx 0 EIO 65536 4096 "container metadata"
# both headers and the region tables (64 KiB to 320 KiB)
ff_mount "$W/x" --eio "clean.vhdx:65536:262144"
scan_ff clean.vhdx
expect_io clean.vhdx 0 EIO 65536 262144 "container metadata"
finish
