#!/usr/bin/env python3
"""Writes a large, valid Botform configuration for benchmarks: N bots, M roles (with includes)."""
import argparse
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bots", type=int, default=10000)
    parser.add_argument("--roles", type=int, default=500)
    parser.add_argument("--entities", type=int, default=200)
    parser.add_argument("--url", default="https://api.fyso.dev")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    actions = ["create", "read", "update", "delete"]
    out = ["version: 1", "providers:", "  prod:", "    type: fyso", f"    url: {args.url}",
           f"    tenant: {args.tenant}", "    credentials:", "      token_env: FYSO_TOKEN", "roles:"]
    for r in range(args.roles):
        out.append(f"  role-{r:04d}:")
        if r >= 10:
            includes = sorted({f"role-{rng.randrange(r):04d}" for _ in range(2)})
            out.append(f"    include: [{', '.join(includes)}]")
        out.append("    permissions:")
        for e in sorted({rng.randrange(args.entities) for _ in range(3)}):
            granted = sorted(rng.sample(actions, rng.randint(1, 4)), key=actions.index)
            out.append(f"      entity-{e:03d}: [{', '.join(granted)}]")
    out.append("bots:")
    for b in range(args.bots):
        out.append(f"  bot-{b:05d}:")
        out.append("    provider: prod")
        out.append(f"    roles: [role-{b % args.roles:04d}]")
        out.append(f"    permissions: {{ entity-{rng.randrange(args.entities):03d}: [read] }}")
        if b % 3 == 0:
            out.append("    rotate_every: 90d")
    out += ["policy:", "  unmanaged: report", "output:", "  sealed: secrets.sealed.yaml"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
