"""Shared helpers for the benchmark scripts: build, run the sandbox, call its API, time commands."""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOTFORM = os.path.join(ROOT, ".build", "release", "botform")
BENCH = os.path.join(ROOT, ".build", "release", "botform-bench")
PASSWORD = "bench-admin-password"


def build(products):
    for product in products:
        print(f"building {product} (release)...", file=sys.stderr)
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def pinned(core, command):
    """The command pinned to one core (when taskset exists), else as is."""
    return (["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []) + command


class Sandbox:
    """`botform sandbox` on a free port, bcrypt cost 4."""

    def __init__(self, core=None, cost=4):
        env = dict(os.environ, BOTFORM_SANDBOX_ADMIN_PASSWORD=PASSWORD)
        self.process = subprocess.Popen(pinned(core, [BOTFORM, "sandbox", "--port", "0", "--bcrypt-cost", str(cost)]),
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            self.process.kill()
            sys.exit(f"the sandbox did not start: {line!r}")
        self.url = match.group(1)

    def call(self, method, path, body=None, token=None):
        request = urllib.request.Request(self.url + path, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        data = json.dumps(body).encode() if body is not None else None
        with urllib.request.urlopen(request, data=data, timeout=60) as response:
            return json.loads(response.read())

    def token(self):
        return self.call("POST", "/api/auth/login", {"email": "admin@sandbox.local", "password": PASSWORD})["data"]["token"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def write_config(directory, url, tenant, bots):
    lines = ["version: 1", "providers:", "  prod:", "    type: fyso", f"    url: {url}", f"    tenant: {tenant}",
             "    credentials: {email_env: FYSO_EMAIL, password_env: FYSO_PASSWORD}", "roles:", "  reader:",
             "    permissions: {products: [read], orders: [read]}", "bots:"]
    for index in range(bots):
        lines += [f"  bot-{index:05d}:", "    roles: [reader]"]
    lines += ["output:", "  sealed: secrets.sealed.yaml"]
    with open(os.path.join(directory, "botform.yaml"), "w") as out:
        out.write("\n".join(lines) + "\n")


def botform_env(directory):
    key = os.path.join(directory, "key.txt")
    if not os.path.exists(key):
        subprocess.run([BOTFORM, "keygen", "-o", key], check=True, stderr=subprocess.DEVNULL)
    recipient = subprocess.run([BOTFORM, "keygen", "-y", key], check=True, capture_output=True, text=True).stdout.strip()
    return dict(os.environ, BOTFORM_RECIPIENTS=recipient, FYSO_EMAIL="admin@sandbox.local", FYSO_PASSWORD=PASSWORD)


def median(values):
    return statistics.median(values)
