#!/usr/bin/env python3
"""Side-by-side load benchmark of FlaskCart-shaped APIs (stdlib + wrk), grown from
../shared/bench/compare.py: the same scenarios, the same wrk command, several targets, one run.
Per scenario and target: requests/s, p99, service CPU per request, database CPU per request and
database commands per request (counted on the wire by bench/wire_count.py), and the ratio of
the first target's requests/s to the peer's.

  compare.py --target cpp=http://127.0.0.1:8080 --service-pids cpp=PID --db-pids cpp=PID \
             --wire cpp=http://127.0.0.1:CTL --peer flask ...
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "bench-password-1"


def call(base, method, path, body=None, token=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def seed(name, base, admin_email, admin_password, n_products, n_users, tag):
    s, d = call(base, "POST", "/login", {"email": admin_email, "password": admin_password})
    if s != 200:
        sys.exit(f"{name}: admin login failed ({s})")
    admin = d["token"]
    s, cat = call(base, "POST", "/categories", {"name": f"bench-{name}-{tag}", "description": "bench"}, admin)
    if s != 201:
        sys.exit(f"{name}: category create failed ({s})")
    lines = []
    for i in range(n_products):
        s, p = call(base, "POST", "/products", {"name": f"bench {name} {tag} {i}", "description": "bench product",
                                                 "price": 1 + (i % 500) / 4, "category": cat["_id"],
                                                 "stock": 1000000}, admin)
        if s != 201:
            sys.exit(f"{name}: product create failed ({s})")
        lines.append(f"product\t{p['_id']}")
    first_product = lines[0].split("\t")[1]
    for i in range(n_users):
        email = f"bench-{name}-{tag}-{i}@example.com"
        s, u = call(base, "POST", "/register", {"name": f"Bench {i}", "email": email, "password": PASSWORD})
        if s != 201:
            sys.exit(f"{name}: register failed ({s})")
        s, d = call(base, "POST", "/login", {"email": email, "password": PASSWORD})
        if s != 200:
            sys.exit(f"{name}: user login failed ({s})")
        # The cart_update scenario changes the quantity of a line every cart holds.
        s, _ = call(base, "POST", "/cart/add", {"product_id": first_product, "quantity": 1}, d["token"])
        if s not in (200, 201):
            sys.exit(f"{name}: cart add failed ({s})")
        # token, user and email lines keep the same order: the n-th token is the n-th user's.
        lines.append(f"token\t{d['token']}")
        lines.append(f"user\t{u['_id']}")
        lines.append(f"email\t{email}")
    fd, path = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".tsv")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# Scenarios that start from the seeded carts (reset_carts) on every target.
RESET_CARTS_BEFORE = {"cart_update", "checkout"}


def reset_carts(name, base, data):
    """Every user's cart back to the seeded state: one line, the first product, quantity 1.
    cart_add runs for a fixed time, so it leaves carts as large as the target was fast (55 lines
    against the peer's 25 in one run), and what a cart_update or a checkout costs grows with
    the cart on one side and not on the other: each target starts them from the same carts."""
    products, tokens = [], []
    with open(data) as f:
        for line in f:
            kind, _, value = line.rstrip("\n").partition("\t")
            if kind == "product":
                products.append(value)
            elif kind == "token":
                tokens.append(value)
    first = products[0]
    # At the large size the peer may still be answering the previous scenario's backlog.
    patient = dict(timeout=600)
    for token in tokens:
        s, cart = call(base, "GET", "/cart", token=token, **patient)
        if s != 200:
            sys.exit(f"{name}: GET /cart failed ({s})")
        held = [item["product_id"] for item in cart["items"]]
        for product in held:
            if product != first:
                s, _ = call(base, "DELETE", f"/cart/remove?product_id={product}", token=token,
                            **patient)
                if s not in (200, 204):
                    sys.exit(f"{name}: cart remove failed ({s})")
        if first in held:
            s, _ = call(base, "PUT", "/cart/update", {"product_id": first, "quantity": 1}, token,
                        **patient)
        else:
            s, _ = call(base, "POST", "/cart/add", {"product_id": first, "quantity": 1}, token,
                        **patient)
        if s not in (200, 201):
            sys.exit(f"{name}: cart reset failed ({s})")


def tree_cpu_seconds(pids):
    """utime+stime of the pids and all their descendants, in seconds."""
    if not pids:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(st[1]), []).append(int(d))
            except OSError:
                pass
    total, todo = 0, list(pids)
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
            total += int(st[11]) + int(st[12])
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total / tick


def wire_commands(url):
    if not url:
        return None
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["commands"]


def wrk(base, scenario, data, duration, connections, threads):
    env = dict(os.environ, SCENARIO=scenario, DATA=data or "")
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
           "--timeout", "10s", "-s", os.path.join(HERE, "scenario.lua"), base]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True).stdout
    m = re.search(r"RESULT (.*)", out)
    if not m:
        return None
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def wait_until_quiet(pids, limit_seconds=30, busy_share=0.1):
    """Waits until the process trees `pids` together use under `busy_share` of a core over half a
    second (at most `limit_seconds`): a target still working through its backlog (the peer at
    the large size answers long after wrk has stopped) must not run during the next
    measurement. Returns the seconds waited, or None on the time limit."""
    waited = 0.0
    while waited < limit_seconds:
        before = tree_cpu_seconds(pids) or 0.0
        time.sleep(0.5)
        waited += 0.5
        if (tree_cpu_seconds(pids) or 0.0) - before < busy_share * 0.5:
            return waited
    return None


def per_name(values):
    out = {}
    for v in values or []:
        name, _, rest = v.partition("=")
        out[name] = rest
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", action="append", required=True, help="name=URL")
    ap.add_argument("--service-pids", action="append", help="name=PID[,PID...] (process trees)")
    ap.add_argument("--db-pids", action="append", help="name=PID")
    ap.add_argument("--wire", action="append", help="name=control URL of wire_count.py")
    ap.add_argument("--only", action="append", help="name=scenario[,scenario] (e.g. nginx=health)")
    ap.add_argument("--skip", action="append", help="name=scenario[,scenario] not run for that target")
    ap.add_argument("--peer", help="ratios are first target / this one")
    # cart_update runs before checkout (which empties the carts), orders after it (so every
    # user has a history).
    ap.add_argument("--scenarios", default="health,browse,search,search_words,suggest,product,"
                                           "cart_add,cart_update,checkout,orders,login")
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--admin-email", default="admin@example.com")
    ap.add_argument("--admin-password", default="admin-password-123")
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    svc = {k: [int(x) for x in v.split(",")] for k, v in per_name(a.service_pids).items()}
    dbp = {k: [int(x) for x in v.split(",")] for k, v in per_name(a.db_pids).items()}
    wire = per_name(a.wire)
    only = {k: set(v.split(",")) for k, v in per_name(a.only).items()}
    skip = {k: set(v.split(",")) for k, v in per_name(a.skip).items()}
    targets = [(t.split("=", 1)[0], t.split("=", 1)[1].rstrip("/")) for t in a.target]
    tag = os.urandom(3).hex()
    data = {n: seed(n, u, a.admin_email, a.admin_password, a.products, a.users, tag)
            for n, u in targets if n not in only}

    results = {}
    # Target by target: at the large size the peer answers long after wrk has stopped (its
    # FerretDB works through the queued requests for minutes), and that backlog must not run
    # during another target's measurement.
    # The peer goes last, nginx before it.
    for name, url in [t for t in targets if t[0] != a.peer] + [t for t in targets if t[0] == a.peer]:
        for sc in a.scenarios.split(","):
            for _ in range(a.rounds):
                if (name in only and sc not in only[name]) or sc in skip.get(name, ()):
                    continue
                if sc in RESET_CARTS_BEFORE and data.get(name):
                    all_pids = [p for ps in list(svc.values()) + list(dbp.values()) for p in ps]
                    wait_until_quiet(all_pids, limit_seconds=600)
                    reset_carts(name, url, data[name])
                    wait_until_quiet(all_pids)
                s0, d0, w0 = tree_cpu_seconds(svc.get(name)), tree_cpu_seconds(dbp.get(name)), wire_commands(wire.get(name))
                r = wrk(url, sc, data.get(name), a.duration, a.connections, a.threads)
                s1, d1, w1 = tree_cpu_seconds(svc.get(name)), tree_cpu_seconds(dbp.get(name)), wire_commands(wire.get(name))
                if r is None:
                    print(f"{sc} {name}: wrk gave no result", file=sys.stderr)
                    continue
                n = r["requests"]
                if n and s0 is not None:
                    r["svc_ms_per_req"] = (s1 - s0) / n * 1e3
                if n and d0 is not None:
                    r["db_ms_per_req"] = (d1 - d0) / n * 1e3
                if n and w0 is not None:
                    r["db_cmds_per_req"] = (w1 - w0) / n
                results.setdefault(sc, {}).setdefault(name, []).append(r)
                all_pids = [p for ps in list(svc.values()) + list(dbp.values()) for p in ps]
                if wait_until_quiet(all_pids) is None:
                    print(f"{sc} {name}: still busy 30 s after the run; measuring on", file=sys.stderr)

    first = targets[0][0]
    print(f"\n{a.label}")
    print("| scenario | target | rps | p99 ms | service CPU ms/req | DB CPU ms/req | DB commands/req | non-2xx | "
          f"errors | {first} / {a.peer or '-'} |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for sc, per in results.items():
        med = {n: {k: statistics.median(r[k] for r in rs if k in r) for k in rs[0]} for n, rs in per.items()}
        summary[sc] = med
        for n, m in med.items():
            ratio = ""
            if n == first and a.peer in med:
                peer_rps = med[a.peer]["rps"]
                ratio = f"{m['rps'] / peer_rps:.1f}×" if peer_rps else "peer 0"
            if n == first and "nginx" in med and n != "nginx" and med["nginx"]["rps"]:
                ratio += f" ({m['rps'] / med['nginx']['rps']:.0%} of nginx)"
            fmt = lambda k, f: (f % m[k]) if k in m else "—"
            print(f"| {sc} | {n} | {m['rps']:,.0f} | {m['p99_ms']:.2f} | {fmt('svc_ms_per_req', '%.3f')} | "
                  f"{fmt('db_ms_per_req', '%.3f')} | {fmt('db_cmds_per_req', '%.2f')} | {m['non2xx']:.0f} | "
                  f"{m['errors']:.0f} | {ratio} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
