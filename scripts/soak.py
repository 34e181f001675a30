#!/usr/bin/env python3
"""Scrapes `escape-lab serve` the way continuous-profiling stores do, and
records its memory, threads and descriptors.

Pyroscope (through Alloy's pyroscope.scrape) and Parca fetch /allocs and
/heap every 10-15 s and a CPU profile back to back; this does it harder:
/allocs and /heap every 5 s, /profile?seconds=10 back to back (2 s in the
short form), on loopback, for a bounded time. It prints a row per interval
(RSS, anonymous RSS, threads, descriptors) and a verdict, and exits 1 when
any of them is not flat: the median RSS of the second half above that of the
first by more than --rss-slack MB, or, once the scraping stops, RSS more than
that above, and threads and descriptors not back to, what they were before
the first request. RSS is read four times a second and the medians are taken
over all those readings, not over the printed rows: a reading can fall on a
request that is symbolizing (its peak is printed, not judged), and in a short
soak two of five rows did.

  python3 scripts/soak.py --minutes 10            # the README's figures
  python3 scripts/soak.py --seconds 30 --every 5  # the short form (tests)

With --request PATH it measures single requests instead: PATH (heap,
profile?seconds=1, ...) asked --times times, one at a time, memory read
every 10 ms while each runs; it prints each request's peak and time, and
exits 1 when a request fails or its anonymous memory peaks more than
--anon-slack MB above what it was before the request.

  python3 scripts/soak.py --request heap --times 3   # the README's peaks
"""
import argparse
import os
import subprocess
import sys
import threading
import time
import urllib.request


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()[0] if v.split() else ""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return {
        "rss_mb": int(fields["VmRSS"]) / 1024,
        "anon_mb": int(fields.get("RssAnon", 0)) / 1024,
        "threads": int(fields["Threads"]),
        "fds": fds,
    }


def median(rows):
    values = sorted(r["rss_mb"] for r in rows)
    return values[len(values) // 2]


def get(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        r.read()
        return r.status


def start_server(binary, duration, serve_args):
    cmd = [binary, "serve", "--addr", "127.0.0.1:0", "--duration", str(int(duration))]
    cmd += serve_args or ["--variants", "fixed"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if "http://" not in line:
        server.kill()
        sys.exit(f"soak: serve did not start: {line!r} {server.stderr.read()!r}")
    return server, line.split()[-1]


def single_requests(a):
    if not 1 <= a.times <= 100:
        sys.exit("soak: give --times between 1 and 100")
    server, base = start_server(a.binary, 60 + 60 * a.times, a.serve_args)
    problems = []
    try:
        time.sleep(1)
        for _ in range(a.times):
            before = status(server.pid)
            peak = dict(before)
            done = threading.Event()

            def poll():
                while not done.is_set():
                    s = status(server.pid)
                    peak["rss_mb"] = max(peak["rss_mb"], s["rss_mb"])
                    peak["anon_mb"] = max(peak["anon_mb"], s["anon_mb"])
                    done.wait(0.01)

            poller = threading.Thread(target=poll)
            poller.start()
            start = time.monotonic()
            try:
                get(base + a.request, 120)
            except Exception as e:
                problems.append(f"{a.request}: {e}")
            took = time.monotonic() - start
            done.set()
            poller.join()
            print(f"{a.request}: before {before['rss_mb']:.1f} MB RSS, {before['anon_mb']:.1f} "
                  f"anonymous; peak {peak['rss_mb']:.1f} and {peak['anon_mb']:.1f}; "
                  f"{took * 1000:.0f} ms", flush=True)
            if peak["anon_mb"] > before["anon_mb"] + a.anon_slack:
                problems.append(f"{a.request}: anonymous memory peaked more than "
                                f"{a.anon_slack} MB above what it was before")
            time.sleep(1)
    finally:
        server.kill()
        server.wait()
    if problems:
        print("soak: " + "; ".join(problems))
        sys.exit(1)
    print("soak: requests answered")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(root, "target/release/escape-lab"))
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--every", type=float, default=60.0, help="seconds between rows")
    ap.add_argument("--rss-slack", type=float, default=16.0)
    ap.add_argument("--request", help="measure single requests of this path instead")
    ap.add_argument("--times", type=int, default=3)
    ap.add_argument("--anon-slack", type=float, default=32.0)
    ap.add_argument("serve_args", nargs="*", help="more arguments for serve (after --)")
    a = ap.parse_args()
    if a.request is not None:
        return single_requests(a)
    total = a.seconds if a.seconds is not None else 60 * (a.minutes or 10)
    if not 1 <= total <= 3600:
        sys.exit("soak: give between 1 second and 60 minutes")
    cpu_seconds = 10 if total >= 60 else 2

    server, base = start_server(a.binary, total + 60, a.serve_args)
    try:
        time.sleep(1)
        before = status(server.pid)
        stop = threading.Event()
        counts = {"ok": 0, "failed": 0}

        def loop(paths, pause, timeout):
            while not stop.is_set():
                for p in paths:
                    try:
                        get(base + p, timeout)
                        counts["ok"] += 1
                    except Exception as e:  # any failure is counted, the soak goes on
                        counts["failed"] += 1
                        print(f"soak: {p}: {e}", file=sys.stderr)
                stop.wait(pause)

        scrapers = [
            threading.Thread(target=loop, args=(["allocs", "heap"], 5, 60)),
            threading.Thread(target=loop, args=([f"profile?seconds={cpu_seconds}"], 0, 60)),
        ]
        for t in scrapers:
            t.start()
        print(f"{'s':>6} {'RSS MB':>8} {'anon MB':>8} {'threads':>8} {'fds':>5}")
        print(f"{0:>6} {before['rss_mb']:>8.1f} {before['anon_mb']:>8.1f} "
              f"{before['threads']:>8} {before['fds']:>5}  before the first request")
        rows = []
        start = time.monotonic()
        next_row = a.every
        while time.monotonic() - start < total:
            time.sleep(0.25)
            s = status(server.pid)
            rows.append(s)
            elapsed = time.monotonic() - start
            if elapsed >= next_row or elapsed >= total:
                next_row += a.every
                print(f"{elapsed:>6.0f} {s['rss_mb']:>8.1f} {s['anon_mb']:>8.1f} "
                      f"{s['threads']:>8} {s['fds']:>5}", flush=True)
        stop.set()
        for t in scrapers:
            t.join()
        time.sleep(1)
        after = status(server.pid)
        print(f"{'idle':>6} {after['rss_mb']:>8.1f} {after['anon_mb']:>8.1f} "
              f"{after['threads']:>8} {after['fds']:>5}  after the scraping stopped")
    finally:
        server.kill()
        server.wait()

    peak = max(r["rss_mb"] for r in rows)
    peak_anon = max(r["anon_mb"] for r in rows)
    print(f"requests: {counts['ok']} answered, {counts['failed']} failed; RSS before "
          f"{before['rss_mb']:.1f} MB, median while scraped {median(rows):.1f} ({len(rows)} readings), "
          f"peak {peak:.1f} (anonymous {peak_anon:.1f}), idle after {after['rss_mb']:.1f}")
    problems = []
    if counts["failed"]:
        problems.append(f"{counts['failed']} requests failed")
    half = len(rows) // 2
    if half and median(rows[half:]) > median(rows[:half]) + a.rss_slack:
        problems.append(f"median RSS grew by more than {a.rss_slack} MB from the first half to the second")
    if after["rss_mb"] > before["rss_mb"] + a.rss_slack:
        problems.append(f"idle RSS is more than {a.rss_slack} MB above what it was before")
    if after["threads"] != before["threads"] or after["fds"] != before["fds"]:
        problems.append("threads or descriptors did not come back once idle")
    if problems:
        print("soak: NOT flat: " + "; ".join(problems))
        sys.exit(1)
    print("soak: flat")


if __name__ == "__main__":
    main()
