"""Baseline of the pcsc benchmark: pyscard's high-level CardConnection.transmit of one APDU, the time
per call as the median of batch means, printed as one JSON line. Usage:
    python3 bench/pyscard-transmit.py READER APDU_HEX ROUNDS BATCH
Exits 3 when pyscard (Debian: python3-pyscard) is not installed."""
import json
import statistics
import sys
import time

try:
    from smartcard.System import readers
except ImportError:
    print(json.dumps({"missing": "python3-pyscard"}))
    sys.exit(3)

name, apdu_hex, rounds, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
apdu = list(bytes.fromhex(apdu_hex))
reader = next(r for r in readers() if str(r) == name)
connection = reader.createConnection()
connection.connect()  # shared, T=0 or T=1, as the Node side connects
for _ in range(max(1, rounds // 4)):
    connection.transmit(apdu)
times = []
for _ in range(rounds):
    t0 = time.perf_counter()
    for _ in range(batch):
        data, sw1, sw2 = connection.transmit(apdu)
    times.append((time.perf_counter() - t0) / batch)
if (sw1, sw2) != (0x90, 0x00):
    raise SystemExit(f"the card answered {sw1:02X}{sw2:02X}")
connection.disconnect()
print(json.dumps({"msPerApdu": statistics.median(times) * 1000, "samples": len(times)}))
