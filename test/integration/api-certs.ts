/**
 * Test PKI made with the openssl CLI at test time: two independent CAs, a
 * server certificate for 127.0.0.1/localhost and a client certificate from
 * each CA. Node's crypto cannot sign X.509, hence openssl.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Pem {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  ca: Pem;
  otherCa: Pem;
  server: Pem;
  client: Pem;
  /** Signed by otherCa: must be refused by a server trusting `ca`. */
  foreignClient: Pem;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pem(dir: string, name: string): Pem {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), certFile, keyFile };
}

function makeCa(dir: string, name: string): Pem {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
  return pem(dir, name);
}

function makeLeaf(dir: string, name: string, ca: string, ext: string): Pem {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  return pem(dir, name);
}

export function makeTestPki(dir: string): TestPki {
  const ca = makeCa(dir, 'knit-test-ca');
  const otherCa = makeCa(dir, 'other-ca');
  return {
    ca,
    otherCa,
    server: makeLeaf(dir, 'knitd', 'knit-test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    client: makeLeaf(dir, 'operator', 'knit-test-ca', 'extendedKeyUsage=clientAuth\n'),
    foreignClient: makeLeaf(dir, 'intruder', 'other-ca', 'extendedKeyUsage=clientAuth\n'),
  };
}
