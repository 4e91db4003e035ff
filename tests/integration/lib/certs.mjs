// Throwaway certificates for the TLS tests: a CA of the test's own, and certificates it
// signs for names and addresses, made with the openssl command in a temporary folder.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ossl = (args, cwd) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

// A CA in dir: {dir, cert, key} (file paths); name tells two CAs apart.
export function makeCa(dir, name = "cccd test CA") {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, `${name.replace(/\W/g, "_")}.key`);
  const cert = path.join(dir, `${name.replace(/\W/g, "_")}.crt`);
  ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  return { dir, cert, key };
}

// A server certificate signed by ca for the given subjectAltNames ("DNS:x", "IP:127.0.0.1"):
// {cert, key, pem} — pem is the certificate and key in one file (baresip's sip_certificate).
export function makeCert(ca, name, sans) {
  const base = path.join(ca.dir, name.replace(/\W/g, "_"));
  const ext = `${base}.ext`;
  fs.writeFileSync(ext, `subjectAltName=${sans.join(",")}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  ossl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", `/CN=${name}`]);
  ossl(["x509", "-req", "-in", `${base}.csr`, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
    "-out", `${base}.crt`, "-days", "2", "-extfile", ext]);
  fs.writeFileSync(`${base}.pem`, fs.readFileSync(`${base}.crt`, "utf8") + fs.readFileSync(`${base}.key`, "utf8"));
  return { cert: `${base}.crt`, key: `${base}.key`, pem: `${base}.pem` };
}
