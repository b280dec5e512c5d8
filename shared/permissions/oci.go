package permissions

// OCI lists the IAM policy grants ("<verb> <resource-type>") the user's group needs in the
// target compartment to create and operate OKE clusters, including the network they run in.
// Aggregate families are used where OKE needs most of a family; finer grants would break as OKE
// starts using further resource types of the family.
var OCI = []Permission{
	{Name: "manage cluster-family", Why: "Create, upgrade and delete OKE clusters and node pools, and read their kubeconfig and work requests."},
	{Name: "manage virtual-network-family", Why: "Create the VCN, subnets, gateways, route tables, security lists and network security groups a cluster runs in, and attach node VNICs."},
	{Name: "manage instance-family", Why: "Launch and terminate the compute instances that are the cluster's worker nodes."},
	{Name: "use volume-family", Why: "Worker nodes boot from block volumes that are created and attached with each instance."},
	{Name: "inspect compartments", Why: "OKE requires it of the caller to place clusters and node pools in the compartment."},
}

// OCIStatement is the policy statement that grants p to group in location, where location is
// "tenancy", "compartment <name>" or "compartment id <ocid>".
func OCIStatement(group, location string, p Permission) string {
	return "Allow group " + group + " to " + p.Name + " in " + location
}
