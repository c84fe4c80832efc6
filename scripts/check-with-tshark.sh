#!/usr/bin/env bash
# Cross-check mmsleak's answer keys against Wireshark's dissectors (tshark).
#
# For every capture in a folder (default: captures/) that has an answer key beside it
# (<capture>.answers.json, as written by `mmsleak synth`), this compares:
#
#   1. MMS PDUs: the set of (frame, message type, transaction id, message id, content location)
#      tshark decodes with the display filter `mmse` against transfers[].pdus[] in the key;
#   2. TLS to an MMSC: for every `tls` transfer in the key, the SNI of the ClientHello and the
#      version the ServerHello negotiated (supported_versions when present) on the same
#      client endpoint;
#   3. WTLS: every `wtls` transfer in the key has WTLS records in tshark (display filter `wtls`).
#
# It prints one line per capture (agree / differ, with the differences), then a summary, and
# exits 1 when anything differs (2 when it cannot run). Frames tshark marks as malformed are
# listed as notes; they do not count as differences.
#
# Decode-as: tshark dissects WAP by port (UDP 2948/9200 WSP, 9201 WTP, 2949/9202/9203 WTLS,
# 2152 GTP-U) and HTTP on its default ports (80, 8080, ...) or, elsewhere, only through its
# `http_tcp` heuristic. For every `http` transfer in the key the script adds
# `-d tcp.port==<server port>,http`, so an MMSC on an unusual port (8002 in the sample
# http-mmsc.pcap: tshark 4.0 finds it heuristically, but loses frame 20 with
# `--disable-heuristic http_tcp` unless `-d tcp.port==8002,http` is given) is dissected as
# HTTP whatever the heuristics; the options used are printed with each capture. Extra tshark
# options can be given in $TSHARK_OPTS (split on spaces), e.g. `-d udp.port==9999,wsp`.
#
# Usage: scripts/check-with-tshark.sh [DIR]      (needs tshark and python3)
set -u

dir=${1:-captures}
for tool in tshark python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-with-tshark: $tool not found" >&2
        exit 2
    fi
done
if [ ! -d "$dir" ]; then
    echo "check-with-tshark: $dir is not a folder" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "tshark: $(tshark -v 2>/dev/null | head -n 1)"
total=0
agree=0
differ=0
skipped=0

shopt -s nullglob
for cap in "$dir"/*; do
    [ -f "$cap" ] || continue
    case "$cap" in
    *.answers.json | *.counts.json | *.md | *.README | *.txt) continue ;;
    esac
    key="$cap.answers.json"
    name=$(basename "$cap")
    if [ ! -f "$key" ]; then
        echo "$name: skipped (no answer key)"
        skipped=$((skipped + 1))
        continue
    fi
    total=$((total + 1))

    # Decode-as options derived from the key: HTTP on every MMSC port it lists.
    decode=()
    while IFS= read -r opt; do
        [ -n "$opt" ] && decode+=(-d "$opt")
    done < <(python3 - "$key" <<'EOF'
import json, sys
key = json.load(open(sys.argv[1]))
ports = sorted({t["server"]["port"] for t in key.get("transfers", []) if t.get("transport") == "http"})
for p in ports:
    print(f"tcp.port=={p},http")
EOF
)
    extra=()
    if [ -n "${TSHARK_OPTS:-}" ]; then
        read -r -a extra <<<"$TSHARK_OPTS"
    fi

    # 1. MMS PDUs. Fields are joined by '|' inside one frame when a frame holds several PDUs.
    tshark -n -r "$cap" "${decode[@]}" "${extra[@]}" -Y mmse -T fields \
        -E separator=/t -E occurrence=a -E aggregator='|' \
        -e frame.number -e mmse.message_type -e mmse.transaction_id \
        -e mmse.message_id -e mmse.content_location \
        >"$tmp/mmse.tsv" 2>"$tmp/mmse.err"
    rc1=$?
    # 2. TLS hellos (IPv4 and IPv6 endpoints).
    tshark -n -r "$cap" "${decode[@]}" "${extra[@]}" \
        -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' -T fields \
        -E separator=/t -E occurrence=f \
        -e frame.number -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
        -e tls.handshake.type -e tls.handshake.extensions_server_name \
        -e tls.handshake.version -e tls.handshake.extensions.supported_version \
        >"$tmp/tls.tsv" 2>"$tmp/tls.err"
    rc2=$?
    # 3. WTLS frames, and frames tshark calls malformed.
    tshark -n -r "$cap" "${decode[@]}" "${extra[@]}" -Y wtls -T fields -e frame.number \
        >"$tmp/wtls.tsv" 2>"$tmp/wtls.err"
    rc3=$?
    tshark -n -r "$cap" "${decode[@]}" "${extra[@]}" -Y '_ws.malformed' -T fields \
        -e frame.number -e _ws.col.Protocol \
        >"$tmp/malformed.tsv" 2>"$tmp/malformed.err"
    if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ] || [ $rc3 -ne 0 ]; then
        echo "$name: differ — tshark failed: $(grep -v 'Running as user' "$tmp"/*.err | head -n 3)"
        differ=$((differ + 1))
        continue
    fi

    opts="${decode[*]:-} ${extra[*]:-}"
    python3 - "$key" "$tmp" "$name" "${opts## }" <<'EOF'
import json, os, sys

key_path, tmp, name, decode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
key = json.load(open(key_path))

# X-Mms-Message-Type values (OMA-TS-MMS_ENC-V1_3 §7.3.30). tshark prints the number with
# -T fields; some versions or profiles print the name: both are accepted.
TYPES = {
    0x80: "m-send-req", 0x81: "m-send-conf", 0x82: "m-notification-ind",
    0x83: "m-notifyresp-ind", 0x84: "m-retrieve-conf", 0x85: "m-acknowledge-ind",
    0x86: "m-delivery-ind", 0x87: "m-read-rec-ind", 0x88: "m-read-orig-ind",
    0x89: "m-forward-req", 0x8A: "m-forward-conf", 0x8B: "m-mbox-store-req",
    0x8C: "m-mbox-store-conf", 0x8D: "m-mbox-view-req", 0x8E: "m-mbox-view-conf",
    0x8F: "m-mbox-upload-req", 0x90: "m-mbox-upload-conf", 0x91: "m-mbox-delete-req",
    0x92: "m-mbox-delete-conf", 0x93: "m-mbox-descr", 0x94: "m-delete-req",
    0x95: "m-delete-conf", 0x96: "m-cancel-req", 0x97: "m-cancel-conf",
}
NAMES = set(TYPES.values())

def type_name(v):
    v = v.strip()
    if v.lower() in NAMES:
        return v.lower()
    try:
        n = int(v, 0)
    except ValueError:
        return v
    return TYPES.get(n, f"0x{n:02x}")

def opt(v):
    v = (v or "").strip()
    return v if v else None

WILD = "*"  # a field tshark could not attribute to one PDU: matches any value

# 1. PDUs
key_pdus = set()
for t in key.get("transfers", []):
    for p in t.get("pdus", []):
        key_pdus.add((p["frame"], p["message_type"], p.get("transaction_id"),
                      p.get("message_id"), p.get("content_location")))
shark_pdus = set()
for line in open(os.path.join(tmp, "mmse.tsv")):
    cols = line.rstrip("\n").split("\t") + [""] * 5
    frame = int(cols[0])
    types = cols[1].split("|") if cols[1] else []
    fields = [c.split("|") if c else [] for c in cols[2:5]]
    for i, ty in enumerate(types):
        if len(types) > 1 and any(len(f) not in (0, len(types)) for f in fields):
            # Several PDUs in one frame and a field present in only some of them: tshark's
            # aggregated columns cannot say which value belongs to which PDU.
            shark_pdus.add((frame, type_name(ty), WILD, WILD, WILD))
            continue
        tid, mid, loc = (opt(f[i]) if len(f) == len(types) else None for f in fields)
        shark_pdus.add((frame, type_name(ty), tid, mid, loc))

def show(p):
    frame, ty, tid, mid, loc = p
    extra = ", ".join(f"{k}={v}" for k, v in (("tid", tid), ("msgid", mid), ("loc", loc)) if v)
    return f"frame {frame} {ty}" + (f" ({extra})" if extra else "")

problems = []
only_key = sorted(key_pdus - shark_pdus)
only_shark = sorted(shark_pdus - key_pdus)
# Pair up PDUs that agree on frame and type but not on a field, to say which field.
by_ft = {(p[0], p[1]): p for p in only_shark}
for p in list(only_key):
    q = by_ft.get((p[0], p[1]))
    if q and q[2:] == (WILD, WILD, WILD):
        only_key.remove(p)
        only_shark.remove(q)
        continue
    if q:
        diffs = [f"{n} key {a!r} vs tshark {b!r}"
                 for n, a, b in zip(("transaction id", "message id", "content location"), p[2:], q[2:])
                 if a != b]
        problems.append(f"frame {p[0]} {p[1]}: {'; '.join(diffs)}")
        only_key.remove(p)
        only_shark.remove(q)
for p in only_key:
    problems.append(f"only in key: {show(p)}")
for p in only_shark:
    problems.append(f"only in tshark: {show(p)}")

# 2. TLS
VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
def version_name(v):
    try:
        return VERSIONS.get(int(v, 0), v)
    except ValueError:
        return v
hellos = {}  # client endpoint -> {"sni":..., "version":...}
for line in open(os.path.join(tmp, "tls.tsv")):
    c = line.rstrip("\n").split("\t") + [""] * 11
    src = (c[1] or c[2], c[3])
    dst = (c[4] or c[5], c[6])
    htype = c[7].split(",")[0]
    if htype == "1":
        hellos.setdefault(src, {})["sni"] = opt(c[8])
    elif htype == "2":
        v = c[10].split(",")[0] if c[10] else c[9].split(",")[0]
        hellos.setdefault(dst, {})["version"] = version_name(v)
tls_checked = 0
for t in key.get("transfers", []):
    if t.get("transport") != "tls":
        continue
    tls_checked += 1
    ep = (t["client"]["ip"], str(t["client"]["port"]))
    h = hellos.get(ep)
    if h is None:
        problems.append(f"{t['id']} tls {ep[0]}:{ep[1]}: no TLS hello in tshark")
        continue
    if h.get("sni") != t.get("sni"):
        problems.append(f"{t['id']} tls: SNI key {t.get('sni')!r} vs tshark {h.get('sni')!r}")
    if h.get("version") != t.get("tls_version"):
        problems.append(f"{t['id']} tls: version key {t.get('tls_version')!r} vs tshark {h.get('version')!r}")

# 3. WTLS
wtls_frames = {int(l) for l in open(os.path.join(tmp, "wtls.tsv")) if l.strip()}
wtls_checked = 0
for t in key.get("transfers", []):
    if t.get("transport") != "wtls":
        continue
    wtls_checked += 1
    span = set(range(t["first_frame"], t["last_frame"] + 1))
    if not span & wtls_frames:
        problems.append(f"{t['id']} wtls frames {t['first_frame']}-{t['last_frame']}: no WTLS in tshark")

# Notes: malformed frames.
malformed = []
for line in open(os.path.join(tmp, "malformed.tsv")):
    c = line.rstrip("\n").split("\t") + [""]
    if c[0]:
        malformed.append(f"{c[0]} ({c[1]})")

counts = f"{len(key_pdus)} PDU(s)"
if tls_checked:
    counts += f", {tls_checked} TLS"
if wtls_checked:
    counts += f", {wtls_checked} WTLS"
opts = f" [{decode.strip()}]" if decode.strip() else ""
if problems:
    print(f"{name}: differ ({counts}){opts}")
    for p in problems:
        print(f"    {p}")
else:
    print(f"{name}: agree ({counts}){opts}")
if malformed:
    print(f"    note: tshark marks {len(malformed)} frame(s) malformed: {', '.join(malformed)}")
sys.exit(1 if problems else 0)
EOF
    if [ $? -eq 0 ]; then
        agree=$((agree + 1))
    else
        differ=$((differ + 1))
    fi
done

echo "summary: $total capture(s) checked, $agree agree, $differ differ, $skipped skipped"
[ "$differ" -eq 0 ] || exit 1
[ "$total" -gt 0 ] || exit 2
exit 0
