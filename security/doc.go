// Package security turns the TLS and SASL settings of sluice.yaml into the
// clients that need them: kafka-go's Dialer (for readers) and Transport (for
// writers) with TLS (CA bundle, client certificate, server name) and SASL
// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; and go-redis options and clients
// with an ACL user or password and rediss:// TLS.
//
// It owns reading the certificate and password files, the Redactor that
// keeps every secret (passwords, password files' contents, SLUICE_*
// password variables, the password of any URL) out of logs, errors and
// printed configuration, the warnings about settings that weaken security
// (insecure_skip_verify, PLAIN without TLS), and errors that say what
// failed: a refused login names the user and the mechanism, a certificate
// problem names the key to look at. It does not open readers or writers
// itself; cmd and server wire what it returns.
package security
