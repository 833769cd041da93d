#!/usr/bin/env python3
"""Small Windows-shaped GPT disks for the triage tests, one per scenario.

Each disk: GPT, an ESP (FAT16 to keep the disks small: EFI/Microsoft/Boot/BCD as a real regf hive,
bootmgfw.efi, EFI/Boot/bootx64.efi) and an NTFS Windows partition (mkntfs,
filled through libntfs-3g's API from ctypes: no FUSE mount, no root): the core boot files, two boot-start
drivers, NLS files, SYSTEM/SOFTWARE/COMPONENTS hives (made with hivexsh from
the corpus' minimal hive), one WinSxS component with a plain manifest whose
DigestValue and COMPONENTS S256H are right, and its System32 hard link.
Scenarios change one thing each.  Writes OUT/<scenario>.img and
OUT/truth.jsonl ({"image", "scenario", "class", "codes"}).

Usage: mkdisk.py OUT [scenario...]
"""
import base64, ctypes, ctypes.util, hashlib, json, os, shutil, struct, subprocess, sys, tempfile, uuid

CORPUS = os.environ.get("BSW_CORPUS", os.path.join(os.path.dirname(__file__), "../../../shared/corpus"))
MIN_HIVE = os.path.join(CORPUS, "hivex/images/minimal")
DISK_GUID = uuid.UUID("5c4b8e0e-1a2b-4c3d-8e9f-00112233aabb")
ESP_GUID = uuid.UUID("11111111-2222-4333-8444-555555555555")
WIN_GUID = uuid.UUID("66666666-7777-4888-9999-aaaaaaaaaaaa")
BOOTMGR = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
LOADER = "{c0ffee00-1234-4abc-8def-0123456789ab}"
MiB = 1 << 20
ESP_START, ESP_SIZE = 1 * MiB, 8 * MiB
WIN_START, WIN_SIZE = 9 * MiB, 24 * MiB
DISK_SIZE = 34 * MiB
KEYFORM = "amd64_microsoft-windows-shell32_31bf3856ad364e35_10.0.20348.1_none_0123456789abcdef"

SCENARIOS = {
    "clean": ("clean", []),
    "pending-xml": ("dirty-rollback", ["SVC-PXML"]),
    "pending-xml-no-id": ("dirty-rollback", ["SVC-PXML", "SVC-PXID"]),
    "pxid-no-pending-xml": ("dirty-rollback", ["SVC-PXID"]),
    "cbs-reboot-pending": ("dirty-rollback", ["SVC-CBSKEYS"]),
    "pkg-partial": ("dirty-rollback", ["SVC-PKGSTATE"]),
    "pkg-negative": ("dirty-rollback", ["SVC-PKGSTATE"]),
    "sessions-pending-incomplete": ("dirty-rollback", ["SVC-SESSPEND"]),
    "components-execstate": ("dirty-rollback", ["SVC-COMPV"]),
    "half-rollback": ("dirty-rollback", ["NTFS-LINK", "SXS-HASH"]),
    "s256h-mismatch": ("dirty-rollback", ["SXS-S256H"]),
    "driver-missing": ("unbootable", ["BOOT-DRV"]),
    "driver-empty": ("unbootable", ["BOOT-DRV"]),
    "bcd-missing": ("unbootable", ["BOOT-BCD"]),
    "bcd-bad-path": ("unbootable", ["BOOT-BCDENT"]),
    "winload-missing": ("unbootable", ["BOOT-CORE"]),
    "select-bad": ("unbootable", ["BOOT-SELECT"]),
    "bitlocker": ("unassessable", ["DISK-ENCRYPTED"]),
    "bitlocker-data": ("clean", []),
    "non-windows-ntfs": ("unassessable", ["DISK-NOTWIN"]),
    "empty-disk": ("unassessable", ["DISK-EMPTY"]),
    "gpt-primary-damaged": ("clean", ["PART-GPT"]),
    "gpt-both-damaged": ("unbootable", ["BOOT-PART"]),
    "ntfs-boot-damaged": ("unbootable", ["NTFS-BPB"]),
    "ntfs-boot-both-damaged": ("unbootable", ["NTFS-BPB"]),
    "kernel-torn": ("unbootable", ["NTFS-FIXUP"]),
    "mft-head-damaged": ("unbootable", ["NTFS-MIRR"]),
    "hive-dirty-good-logs": ("clean", ["REG-DIRTY"]),
    "system-dirty-badlog": ("unbootable", ["REG-LOG"]),
    "system-corrupt-nolog": ("unbootable", ["REG-HBIN"]),
}
YARP = os.path.join(CORPUS, "yarp/hives_for_tests")


def run(*a, **kw):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


class NtfsVolume:
    """Writes files into an unmounted NTFS volume file through libntfs-3g
    (ntfs_mount of the file itself, ntfs_create, ntfs_attr_pwrite,
    ntfs_link), as datasets/mkfleet does in C.  A FUSE mount would need root
    and /dev/fuse, which CI machines may lack."""
    S_IFDIR, S_IFREG, AT_DATA = 0o040000, 0o100000, 0x80

    def __init__(self, path):
        name = ctypes.util.find_library("ntfs-3g")
        if not name:
            raise OSError("libntfs-3g not found")
        L = self.lib = ctypes.CDLL(name, use_errno=True)
        vp = ctypes.c_void_p
        L.ntfs_mount.restype, L.ntfs_mount.argtypes = vp, [ctypes.c_char_p, ctypes.c_ulong]
        L.ntfs_umount.restype, L.ntfs_umount.argtypes = ctypes.c_int, [vp, ctypes.c_int]
        L.ntfs_pathname_to_inode.restype = vp
        L.ntfs_pathname_to_inode.argtypes = [vp, vp, ctypes.c_char_p]
        L.ntfs_create.restype = vp
        L.ntfs_create.argtypes = [vp, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint8, ctypes.c_uint]
        L.ntfs_link.restype = ctypes.c_int
        L.ntfs_link.argtypes = [vp, vp, ctypes.c_char_p, ctypes.c_uint8]
        L.ntfs_inode_close.restype, L.ntfs_inode_close.argtypes = ctypes.c_int, [vp]
        L.ntfs_attr_open.restype = vp
        L.ntfs_attr_open.argtypes = [vp, ctypes.c_uint32, vp, ctypes.c_uint32]
        L.ntfs_attr_close.restype, L.ntfs_attr_close.argtypes = None, [vp]
        L.ntfs_attr_pwrite.restype = ctypes.c_int64
        L.ntfs_attr_pwrite.argtypes = [vp, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p]
        self.unnamed = ctypes.addressof(ctypes.c_uint16.in_dll(L, "AT_UNNAMED"))
        self.vol = L.ntfs_mount(path.encode(), 0)
        if not self.vol:
            raise OSError(ctypes.get_errno(), "ntfs_mount " + path)

    def _lookup(self, path):
        return self.lib.ntfs_pathname_to_inode(self.vol, None, ("/" + path).encode())

    def _close(self, ni):
        if self.lib.ntfs_inode_close(ni):
            raise OSError(ctypes.get_errno(), "ntfs_inode_close")

    def _create(self, dir_ni, name, mode):
        u = name.encode("utf-16-le")
        ni = self.lib.ntfs_create(dir_ni, 0, u, len(u) // 2, mode)
        if not ni:
            raise OSError(ctypes.get_errno(), "ntfs_create " + name)
        return ni

    def dir(self, path):
        """The inode of directory path (made, with its parents, if absent)."""
        ni = self._lookup(path)
        if ni:
            return ni
        parent, _, name = path.rstrip("/").rpartition("/")
        pni = self.dir(parent)
        try:
            return self._create(pni, name, self.S_IFDIR)
        finally:
            self._close(pni)

    def write(self, path, data):
        parent, _, name = path.rpartition("/")
        pni = self.dir(parent)
        try:
            ni = self._create(pni, name, self.S_IFREG)
        finally:
            self._close(pni)
        try:
            if data:
                na = self.lib.ntfs_attr_open(ni, self.AT_DATA, self.unnamed, 0)
                if not na:
                    raise OSError(ctypes.get_errno(), "ntfs_attr_open " + path)
                done = self.lib.ntfs_attr_pwrite(na, 0, len(data), data)
                self.lib.ntfs_attr_close(na)
                if done != len(data):
                    raise OSError(ctypes.get_errno(), "ntfs_attr_pwrite %s: %d of %d" % (path, done, len(data)))
        finally:
            self._close(ni)

    def link(self, src, dst):
        ni = self._lookup(src)
        if not ni:
            raise OSError(ctypes.get_errno(), "lookup " + src)
        parent, _, name = dst.rpartition("/")
        pni = self.dir(parent)
        u = name.encode("utf-16-le")
        rc = self.lib.ntfs_link(ni, pni, u, len(u) // 2)
        self._close(pni)
        self._close(ni)
        if rc:
            raise OSError(ctypes.get_errno(), "ntfs_link " + dst)

    def close(self):
        if self.lib.ntfs_umount(self.vol, 0):
            raise OSError(ctypes.get_errno(), "ntfs_umount")


def utf16(s):
    return s.encode("utf-16-le")


def hexval(t, data):
    return "hex:%d:%s" % (t, ",".join("%02x" % b for b in data))


def mkhive(path, tree):
    """tree: {"Key\\Sub": {"name": value}}; value: int (dword), str (sz),
    ("expand", s), ("multi", [..]), bytes (binary)."""
    shutil.copy(MIN_HIVE, path)
    os.chmod(path, 0o644)
    cmds = []
    made = set()
    for key in sorted(tree):
        parts = key.split("\\") if key else []
        for i in range(len(parts)):
            sub = "\\".join(parts[: i + 1])
            if sub in made:
                continue
            cmds.append("cd \\" + "\\".join(parts[:i]))
            cmds.append("add " + parts[i])
            made.add(sub)
        vals = tree[key]
        if not vals:
            continue
        cmds.append("cd \\" + key)
        cmds.append("setval %d" % len(vals))
        for name, v in vals.items():
            cmds.append(name if name else "@")
            if isinstance(v, bool):
                raise ValueError
            if isinstance(v, int):
                cmds.append("dword:0x%08x" % (v & 0xFFFFFFFF))
            elif isinstance(v, str):
                cmds.append(hexval(1, utf16(v + "\0")))
            elif isinstance(v, bytes):
                cmds.append(hexval(3, v))
            elif v[0] == "expand":
                cmds.append(hexval(2, utf16(v[1] + "\0")))
            elif v[0] == "multi":
                cmds.append(hexval(7, utf16("".join(s + "\0" for s in v[1]) + "\0")))
    cmds.append("commit")
    subprocess.run(["hivexsh", "-w", path], input="\n".join(cmds) + "\n",
                   text=True, check=True, stdout=subprocess.DEVNULL)


def pe(size, tag):
    body = (tag.encode() * (size // max(1, len(tag)) + 1))[: max(0, size - 128)]
    hdr = bytearray(128)
    hdr[0:2] = b"MZ"
    struct.pack_into("<I", hdr, 60, 64)
    hdr[64:68] = b"PE\0\0"
    return bytes(hdr) + body


def device_blob(part_guid):
    b = bytearray(88)
    struct.pack_into("<I", b, 16, 6)
    struct.pack_into("<I", b, 24, 0x48)
    b[32:48] = part_guid.bytes_le
    struct.pack_into("<I", b, 52, 0)
    b[56:72] = DISK_GUID.bytes_le
    return bytes(b)


def manifest(digest_b64):
    return ("""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" copyright="test">
  <assemblyIdentity name="Microsoft-Windows-Shell32" version="10.0.20348.1" processorArchitecture="amd64" language="neutral" buildType="release" publicKeyToken="31bf3856ad364e35" versionScope="nonSxS" />
  <file name="shell32.dll" destinationPath="$(runtime.system32)\\" sourceName="shell32.dll" importPath="$(build.nttree)\\">
    <securityDescriptor name="WRP_FILE_DEFAULT_SDDL" />
    <asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">
      <dsig:Transforms><dsig:Transform Algorithm="urn:schemas-microsoft-com:HashTransforms.Identity" /></dsig:Transforms>
      <dsig:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha256" />
      <dsig:DigestValue>%s</dsig:DigestValue>
    </asmv2:hash>
  </file>
</assembly>
""" % digest_b64).encode()


def build(out, sc, work):
    shell32 = pe(90000, "shell32 ")
    man = manifest(base64.b64encode(hashlib.sha256(shell32).digest()).decode())
    cs = "ControlSet001"
    system = {
        "Select": {"Default": 3 if sc == "select-bad" else 1, "Current": 1, "LastKnownGood": 1},
        cs + "\\Services\\disk": {"Start": 0, "Type": 1, "ImagePath": ("expand", "System32\\drivers\\disk.sys")},
        cs + "\\Services\\stornvme": {"Start": 0, "Type": 1},
        cs + "\\Services\\spooler": {"Start": 2, "Type": 16},
        cs + "\\Control\\Nls\\CodePage": {"ACP": "1252", "OEMCP": "437", "1252": "c_1252.nls", "437": "c_437.nls"},
        cs + "\\Control\\Nls\\Language": {"Default": "0409", "0409": "l_intl.nls"},
        cs + "\\Control\\Session Manager": {"BootExecute": ("multi", ["autocheck autochk *"])},
    }
    cbs = "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing"
    pkg_state = {"pkg-partial": 0x65, "pkg-negative": 0xFFFFFF90}.get(sc, 0x70)
    software = {
        cbs + "\\Packages\\Package_for_KB5000001~31bf3856ad364e35~amd64~~20348.1.1.0": {"CurrentState": pkg_state},
        cbs + "\\SessionsPending": {},
        "Microsoft\\Windows NT\\CurrentVersion": {"ProductName": "Windows Server 2022 Datacenter"},
    }
    if sc == "cbs-reboot-pending":
        software[cbs + "\\RebootPending"] = {}
    if sc == "sessions-pending-incomplete":
        software[cbs + "\\SessionsPending\\31000000_123"] = {"Complete": 0, "LastCommittedPhase": 2}
    s256 = hashlib.sha256(man).digest()
    if sc == "s256h-mismatch":
        s256 = bytes(32)
    components = {
        "DerivedData\\Components\\" + KEYFORM: {"S256H": s256, "identity": b"Microsoft-Windows-Shell32"},
        "CanonicalData\\Deployments": {},
    }
    pxid = "916d3b8a1bd4d8019a0b00004413a00e"
    if sc in ("pending-xml", "pxid-no-pending-xml"):
        components[""] = {"PendingXmlIdentifier": utf16(pxid)}
    if sc == "components-execstate":
        components[""] = {"ExecutionState": 1}
    hv = os.path.join(work, "hives")
    os.makedirs(hv, exist_ok=True)
    for name, tree in (("SYSTEM", system), ("SOFTWARE", software), ("COMPONENTS", components)):
        mkhive(os.path.join(hv, name), tree)
    bcd = {
        "Description": {"KeyName": "BCD00000000"},
        "Objects\\" + BOOTMGR + "\\Description": {"Type": 0x10100002},
        "Objects\\" + BOOTMGR + "\\Elements\\23000003": {"Element": LOADER},
        "Objects\\" + BOOTMGR + "\\Elements\\12000002": {"Element": "\\EFI\\Microsoft\\Boot\\bootmgfw.efi"},
        "Objects\\" + BOOTMGR + "\\Elements\\11000001": {"Element": device_blob(ESP_GUID)},
        "Objects\\" + LOADER + "\\Description": {"Type": 0x10200003},
        "Objects\\" + LOADER + "\\Elements\\12000002": {"Element": "\\Windows\\system32\\winload.%s" % ("exe" if sc == "bcd-bad-path" else "efi")},
        "Objects\\" + LOADER + "\\Elements\\22000002": {"Element": "\\Windows"},
        "Objects\\" + LOADER + "\\Elements\\12000004": {"Element": "Windows Server"},
        "Objects\\" + LOADER + "\\Elements\\11000001": {"Element": device_blob(WIN_GUID)},
        "Objects\\" + LOADER + "\\Elements\\21000001": {"Element": device_blob(WIN_GUID)},
    }
    mkhive(os.path.join(hv, "BCD"), bcd)
    for n in ("SYSTEM", "SOFTWARE"):
        for l in (".LOG1", ".LOG2"):
            if os.path.exists(os.path.join(hv, n + l)):
                os.unlink(os.path.join(hv, n + l))
    if sc == "hive-dirty-good-logs":
        # a real dirty hive whose logs replay (yarp NewDirtyHive1) as SOFTWARE
        for l in ("", ".LOG1", ".LOG2"):
            shutil.copy(os.path.join(YARP, "NewDirtyHive1/NewDirtyHive" + l), os.path.join(hv, "SOFTWARE" + l))
    if sc == "system-dirty-badlog":
        for l in ("", ".LOG1", ".LOG2"):
            shutil.copy(os.path.join(YARP, "BadLogHive1/BadLogHive" + l), os.path.join(hv, "SYSTEM" + l))
    if sc == "system-corrupt-nolog":
        with open(os.path.join(hv, "SYSTEM"), "r+b") as f:
            f.seek(4096)
            f.write(b"XXXX\xff\xff\xff\xff")
        for l in (".LOG1", ".LOG2"):
            open(os.path.join(hv, "SYSTEM" + l), "wb").close()

    # ESP
    esp = os.path.join(work, "esp.img")
    if os.path.exists(esp):
        os.unlink(esp)
    run("mkfs.vfat", "-C", "-F", "16", "-s", "1", esp, str(ESP_SIZE // 1024))
    mt = lambda *a: run("mmd" if a[0] == "mmd" else "mcopy", "-i", esp, *a[1:])
    mt("mmd", "::/EFI", "::/EFI/Microsoft", "::/EFI/Microsoft/Boot", "::/EFI/Boot")
    with open(os.path.join(work, "bootmgfw.efi"), "wb") as f:
        f.write(pe(20000, "bootmgfw "))
    mt("mcopy", os.path.join(work, "bootmgfw.efi"), "::/EFI/Microsoft/Boot/bootmgfw.efi")
    mt("mcopy", os.path.join(work, "bootmgfw.efi"), "::/EFI/Boot/bootx64.efi")
    if sc != "bcd-missing":
        mt("mcopy", os.path.join(hv, "BCD"), "::/EFI/Microsoft/Boot/BCD")

    # Windows volume
    win = os.path.join(work, "win.img")
    with open(win, "wb") as f:
        f.truncate(WIN_SIZE)
    run("mkntfs", "-F", "-f", "-q", "-p", str(WIN_START // 512), "-H", "255", "-S", "63", "-L", "Windows", win)
    vol = NtfsVolume(win)
    try:
        w = vol.write
        if sc != "non-windows-ntfs":
            s32 = "Windows/System32/"
            for n, size in (("ntoskrnl.exe", 200000), ("hal.dll", 40000), ("ci.dll", 30000), ("winload.efi", 50000)):
                if not (sc == "winload-missing" and n == "winload.efi"):
                    w(s32 + n, pe(size, n))
            w(s32 + "drivers/disk.sys", b"" if sc == "driver-empty" else pe(9000, "disk"))
            if sc != "driver-missing":
                w(s32 + "drivers/stornvme.sys", pe(7000, "stornvme"))
            for n in ("c_1252.nls", "c_437.nls", "l_intl.nls"):
                w(s32 + n, b"NLS" * 100)
            for n in ("SYSTEM", "SOFTWARE", "COMPONENTS", "SYSTEM.LOG1", "SYSTEM.LOG2",
                      "SOFTWARE.LOG1", "SOFTWARE.LOG2"):
                if os.path.exists(os.path.join(hv, n)):
                    w(s32 + "config/" + n, open(os.path.join(hv, n), "rb").read())
            w("Windows/WinSxS/Manifests/" + KEYFORM + ".manifest", man)
            vol._close(vol.dir("Windows/WinSxS/Catalogs"))
            w("Windows/WinSxS/" + KEYFORM + "/shell32.dll", shell32)
            if sc == "half-rollback":
                w(s32 + "shell32.dll", pe(90000, "older shell32 "))
            else:
                vol.link("Windows/WinSxS/" + KEYFORM + "/shell32.dll", s32 + "shell32.dll")
            if sc in ("pending-xml", "pending-xml-no-id"):
                w("Windows/WinSxS/pending.xml",
                  ('<?xml version="1.0" encoding="utf-8"?>\n<PendingTransaction Version="3.1" '
                   'WcpVersion="10.0.20348.1" Identifier="%s"><Transactions/><ChangeList/>'
                   '<POQ postAction="reboot"/><POQ/><InstallerQueue Length="0x0"/></PendingTransaction>\n' % pxid).encode())
        else:
            w("data/readme.txt", b"not windows\n")
    finally:
        vol.close()
    kernel_rec = None
    if sc == "kernel-torn":
        o = subprocess.run(["ntfsinfo", "-F", "/Windows/System32/ntoskrnl.exe", win],
                           capture_output=True, text=True).stdout
        kernel_rec = int(o.split("Dumping Inode ")[1].split()[0])

    img = os.path.join(out, sc + ".img")
    extra = 6 * MiB if sc == "bitlocker-data" else 0
    with open(img, "wb") as f:
        f.truncate(DISK_SIZE + extra)
    if sc == "empty-disk":
        return img
    parts = ["-n", "1:%d:+%dM" % (ESP_START // 512, ESP_SIZE // MiB), "-t", "1:ef00", "-u", "1:" + str(ESP_GUID),
             "-n", "2:%d:+%dM" % (WIN_START // 512, WIN_SIZE // MiB), "-t", "2:0700", "-u", "2:" + str(WIN_GUID)]
    if extra:
        # a BitLocker data volume beside a readable Windows volume
        parts += ["-n", "3:%d:+4M" % ((WIN_START + WIN_SIZE) // 512), "-t", "3:0700"]
    run("sgdisk", "-U", str(DISK_GUID), *parts, img)
    if extra:
        with open(img, "r+b") as f:
            f.seek(WIN_START + WIN_SIZE)
            f.write(b"\xeb\x58\x90-FVE-FS-" + bytes(500) + b"\x55\xaa")
    with open(img, "r+b") as f:
        f.seek(ESP_START)
        f.write(open(esp, "rb").read())
        f.seek(WIN_START)
        if sc == "bitlocker":
            vol = bytearray(open(win, "rb").read())
            vol[3:11] = b"-FVE-FS-"
            f.write(vol)
        else:
            f.write(open(win, "rb").read())
        damage(f, sc, kernel_rec)
    return img


def damage(f, sc, kernel_rec):
    """On-disk damage applied to the assembled disk image."""
    f.seek(WIN_START)
    bs = f.read(512)
    spc = bs[13]
    bps = struct.unpack_from("<H", bs, 11)[0]
    mft = WIN_START + struct.unpack_from("<Q", bs, 48)[0] * spc * bps

    def tear(rec):
        # the last two bytes of the record's first sector no longer carry the
        # update sequence number (a torn write)
        f.seek(mft + rec * 1024 + 510)
        b = f.read(2)
        f.seek(mft + rec * 1024 + 510)
        f.write(bytes([b[0] ^ 0x5A, b[1] ^ 0xA5]))

    if sc == "kernel-torn":
        tear(kernel_rec)
    elif sc == "mft-head-damaged":
        for rec in range(4):
            tear(rec)
    elif sc in ("ntfs-boot-damaged", "ntfs-boot-both-damaged"):
        f.seek(WIN_START)
        f.write(bytes(512))
        if sc == "ntfs-boot-both-damaged":
            f.seek(WIN_START + WIN_SIZE - 512)
            f.write(bytes(512))
    elif sc in ("gpt-primary-damaged", "gpt-both-damaged"):
        f.seek(512 + 16)
        f.write(b"\xde\xad\xbe\xef")	# header CRC32
        if sc == "gpt-both-damaged":
            f.seek(-512 + 16, 2)
            f.write(b"\xde\xad\xbe\xef")


def main():
    out = sys.argv[1]
    todo = sys.argv[2:] or list(SCENARIOS)
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(dir=out, prefix=".work")
    try:
        with open(os.path.join(out, "truth.jsonl"), "w") as t:
            for sc in todo:
                img = build(out, sc, work)
                cls, codes = SCENARIOS[sc]
                t.write(json.dumps({"image": os.path.basename(img), "scenario": sc,
                                    "class": cls, "codes": codes}) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
