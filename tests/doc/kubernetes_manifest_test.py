#!/usr/bin/env python3
"""tools/kubernetes/arrival-job.yaml, checked structurally (no cluster runs here; issue 12):

  kubernetes_manifest_test.py MANIFEST

- an Indexed Job whose SHARDS equals its completions, and whose container script, run once per completion
  index with the index as the Job controller provides it (and the ConfigMap's values in the environment, as
  envFrom gives them), runs `arrival migrate` and `arrival verify` with --shard K/N: every index maps to
  exactly one shard, every shard to one index (a stand-in `arrival` on PATH records the arguments);
- the plan comes from the ConfigMap (the accounts file mounted from it), the passwords are files of a mounted
  Secret (mode 0400, read-only), and no secret value is in the manifest: no Secret object with data, no
  password-like key in the ConfigMap, no env value for a password-like name, no --*-password argument;
- the state and reports are on the PersistentVolumeClaim the manifest defines, in a directory per index
  (subPathExpr over the index), and migrate's --state-dir and every --report point into it.
"""
import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

MANIFEST = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "tools", "kubernetes", "arrival-job.yaml")
SECRETISH = re.compile(r"pass|secret|token|credential|key", re.I)


def docs():
    with open(MANIFEST) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(kind):
    found = [d for d in docs() if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


class Manifest(unittest.TestCase):
    def setUp(self):
        self.job = one("Job")
        self.pod = self.job["spec"]["template"]["spec"]
        self.assertEqual(len(self.pod["containers"]), 1)
        self.c = self.pod["containers"][0]
        self.env = {e["name"]: e for e in self.c.get("env", [])}
        self.mounts = {m["name"]: m for m in self.c["volumeMounts"]}
        self.volumes = {v["name"]: v for v in self.pod["volumes"]}

    def index_var(self):
        """The env var holding the completion index (JOB_COMPLETION_INDEX, or one read from its annotation)."""
        for name, e in self.env.items():
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
            if ref == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
                return name
        return "JOB_COMPLETION_INDEX"

    def run_script(self, index, fake_dir):
        """Runs the container's command for one index with a stand-in arrival; returns its recorded argv lists."""
        log = os.path.join(fake_dir, f"calls-{index}")
        fake = os.path.join(fake_dir, "arrival")
        with open(fake, "w") as f:
            f.write(f'#!/bin/sh\nprintf "%s\\0" "$@" >> {shlex.quote(log)}\nprintf "\\n" >> {shlex.quote(log)}\nexit 0\n')
        os.chmod(fake, 0o755)
        cm = one("ConfigMap")["data"]
        env = {"PATH": fake_dir + ":/usr/bin:/bin", "JOB_COMPLETION_INDEX": str(index)}
        for src in self.c.get("envFrom", []):
            self.assertEqual(src["configMapRef"]["name"], cm_name := one("ConfigMap")["metadata"]["name"], cm_name)
            env.update({k: v for k, v in cm.items() if re.fullmatch(r"[A-Z_][A-Z0-9_]*", k)})
        for name, e in self.env.items():
            env[name] = str(index) if name == self.index_var() else e.get("value", "")
        # The script writes under the state mount: give it a scratch directory there instead.
        root = os.path.join(fake_dir, f"root-{index}")
        script = "\n".join(self.c["args"]).replace(self.mounts["state"]["mountPath"], root)
        p = subprocess.run(self.c["command"] + [script], env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(log) as f:
            return [line.split("\0")[:-1] for line in f.read().split("\n") if line]

    def test_indexed_job_every_index_is_one_shard(self):
        spec = self.job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        n = spec["completions"]
        self.assertEqual(int(self.env["SHARDS"]["value"]), n, "SHARDS must equal the Job's completions")
        self.assertLessEqual(spec.get("parallelism", n), n)
        self.assertIn("backoffLimit", spec)
        self.assertIn(self.pod["restartPolicy"], ("OnFailure", "Never"))
        shards = {}
        with tempfile.TemporaryDirectory() as d:
            for index in range(n):
                calls = self.run_script(index, d)
                self.assertEqual([c[0] for c in calls], ["migrate", "verify"], calls)
                for c in calls:
                    self.assertEqual(c.count("--shard"), 1, c)
                    shard = c[c.index("--shard") + 1]
                    shards.setdefault(shard, set()).add(index)
                    self.assertIn("--report", c)
                    self.assertTrue(c[c.index("--report") + 1].startswith(os.path.join(d, f"root-{index}")), c)
                    self.assertIn("/etc/arrival/plan/accounts.csv", c)
                migrate = calls[0]
                self.assertTrue(migrate[migrate.index("--state-dir") + 1].startswith(os.path.join(d, f"root-{index}")))
        self.assertEqual(shards, {f"{k}/{n}": {k} for k in range(n)})

    def test_plan_from_configmap_credentials_from_secret_files(self):
        cm = one("ConfigMap")
        self.assertEqual(self.volumes["plan"]["configMap"]["name"], cm["metadata"]["name"])
        self.assertIn("accounts.csv", cm["data"])
        self.assertTrue(self.mounts["plan"].get("readOnly"))
        secret = self.volumes["credentials"]["secret"]
        self.assertEqual(secret["defaultMode"], 0o400)
        self.assertTrue(self.mounts["credentials"].get("readOnly"))
        script = "\n".join(self.c["args"])
        files = re.findall(r"--[a-z-]*password-file\s+(\S+)", script)
        self.assertEqual(len(set(files)), 2, "a source and a destination password file")
        for path in files:
            self.assertTrue(path.startswith(self.mounts["credentials"]["mountPath"] + "/"), path)

    def test_no_secret_value_inline(self):
        for d in docs():
            if d["kind"] == "Secret":
                self.assertFalse(d.get("data") or d.get("stringData"), "a Secret with values in the manifest")
        for key in one("ConfigMap")["data"]:
            self.assertFalse(SECRETISH.search(key), f"ConfigMap key {key} looks like a secret")
        for name, e in self.env.items():
            if SECRETISH.search(name):
                self.assertNotIn("value", e, f"env {name} has an inline value")
        for e in self.c.get("envFrom", []):
            self.assertNotIn("secretRef", e, "a Secret as environment variables (arrival wants files)")
        script = "\n".join(self.c["args"])
        self.assertIsNone(re.search(r"--[a-z-]*password(?!-file)\b", script))
        self.assertNotIn("ARRIVAL_SOURCE_PASSWORD", script)
        self.assertNotIn("ARRIVAL_DEST_PASSWORD", script)

    def test_state_on_a_claim_in_a_directory_per_index(self):
        pvc = one("PersistentVolumeClaim")
        claim = self.volumes["state"]["persistentVolumeClaim"]["claimName"]
        self.assertEqual(claim, pvc["metadata"]["name"])
        self.assertIn("ReadWriteMany", pvc["spec"]["accessModes"], "pods of several nodes mount it at once")
        sub = self.mounts["state"].get("subPathExpr", "")
        self.assertIn(f"$({self.index_var()})", sub, "one directory per index")
        self.assertNotIn("readOnly", self.mounts["state"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
