// Package permissions is the one list of what each cloud identity must be allowed to do for
// Streamtime to create and operate Kubernetes clusters there. Validators check exactly these, and
// the customer-facing policy documents in infra/ are tested against them.
package permissions

// Permission is one permission in the cloud's own naming (an IAM action, a GCP permission, an
// Azure action, an OCI policy verb and resource).
type Permission struct {
	Name string
	// Why says what cluster management uses it for, in words shown to customers.
	Why string
}

// Names returns the permission names of ps in order.
func Names(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}
