package provider

import (
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
)

var (
	ociUserRE        = newPattern(`^ocid1\.user\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]{20,}$`, 255)
	ociTenancyRE     = newPattern(`^ocid1\.tenancy\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]{20,}$`, 255)
	ociCompartmentRE = newPattern(`^ocid1\.(compartment|tenancy)\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]{20,}$`, 255)
	ociFingerprintRE = newPattern(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`, 0)
)

// ValidOCIRegion reports whether r is an OCI region the service knows.
func ValidOCIRegion(r string) bool { return ociRegions[r] }

var ociSchema = schema{
	fields: []field{
		{name: "user_ocid", required: true, parse: matching(ociUserRE, "a user OCID (ocid1.user.oc1..<id>)")},
		{name: "tenancy_ocid", required: true, parse: matching(ociTenancyRE, "a tenancy OCID (ocid1.tenancy.oc1..<id>)")},
		{name: "fingerprint", required: true, parse: matching(ociFingerprintRE, "an API key fingerprint: 16 lowercase hex pairs separated by colons")},
		{name: "private_key", secret: true, required: true, parse: func(raw json.RawMessage, _ *parseCtx) (any, error) {
			s, err := text(raw)
			if err != nil {
				return nil, err
			}
			if len(s) > 16384 {
				return nil, fmt.Errorf("must be at most 16384 characters")
			}
			block, _ := pem.Decode([]byte(s))
			if block == nil || !strings.Contains(block.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("must be a PEM encoded RSA private key")
			}
			return s, nil
		}},
		{name: "private_key_passphrase", secret: true, parse: secretString(1024, nil, "")},
		{name: "region", required: true, parse: func(raw json.RawMessage, _ *parseCtx) (any, error) {
			s, err := str(raw)
			if err != nil {
				return nil, err
			}
			if !ValidOCIRegion(s) {
				return nil, fmt.Errorf("must be a known OCI region name such as us-ashburn-1")
			}
			return s, nil
		}},
		{name: "compartment_ocid", parse: matching(ociCompartmentRE, "a compartment or tenancy OCID")},
	},
	check: func(c *parseCtx, cfg *Configuration) {
		if _, ok := cfg.Public["compartment_ocid"]; !ok {
			cfg.Public["compartment_ocid"] = cfg.Public["tenancy_ocid"]
		}
		// The SDK signs with whatever key it is given; a fingerprint that does not belong to the
		// key only shows up as an authentication failure later, so catch it here when we can.
		key, err := ociPrivateKey(cfg.Secret["private_key"], cfg.Secret["private_key_passphrase"])
		if err != nil {
			c.errs.Add("configuration.private_key", err.Error())
			return
		}
		if key == nil {
			return // encrypted in a form only the validator's SDK can open
		}
		if fp, err := OCIFingerprint(&key.PublicKey); err == nil && fp != cfg.Public["fingerprint"] {
			c.errs.Add("configuration.fingerprint", "does not match the public key of private_key")
		}
	},
}

// ociPrivateKey parses an OCI API signing key. It returns nil, nil for a PKCS#8 encrypted key,
// which the standard library cannot open. Errors never quote the key or passphrase.
func ociPrivateKey(pemText, passphrase string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, fmt.Errorf("must be a PEM encoded RSA private key")
	}
	der := block.Bytes
	//nolint:staticcheck // legacy PEM encryption is what `openssl genrsa -aes128` and OCI's docs produce
	if x509.IsEncryptedPEMBlock(block) {
		if passphrase == "" {
			return nil, fmt.Errorf("is encrypted; private_key_passphrase is required")
		}
		d, err := x509.DecryptPEMBlock(block, []byte(passphrase)) //nolint:staticcheck
		if err != nil {
			return nil, fmt.Errorf("cannot be decrypted with private_key_passphrase")
		}
		der = d
	}
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		if passphrase == "" {
			return nil, fmt.Errorf("is encrypted; private_key_passphrase is required")
		}
		return nil, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("cannot be parsed as an RSA private key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("cannot be parsed as a PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("must be an RSA key")
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("must be a PEM encoded RSA private key")
	}
}

// OCIFingerprint is OCI's API key fingerprint: MD5 of the DER public key, as colon-separated hex.
func OCIFingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), nil
}
