package permissions

// GCPRoleID is the id of the custom role customers create from infra/gcp/streamtime-fleet-role.yaml.
// Custom role ids allow letters, digits, underscores and periods only.
const GCPRoleID = "streamtimeFleet"

// GCP is what the customer's service account must hold on the project, tested with Resource
// Manager projects.testIamPermissions. Every name must be a real, project-level permission: one
// unknown name makes Google reject the whole test call. GKE has no container.nodePools.*
// permissions; node pool methods are authorised by container.clusters.get and .update.
var GCP = []Permission{
	{Name: "container.clusters.create", Why: "Create GKE clusters and their initial node pools."},
	{Name: "container.clusters.get", Why: "Read a cluster's state, endpoint and CA certificate, and its node pools."},
	{Name: "container.clusters.list", Why: "Find the clusters Streamtime manages in the project; also the validation probe."},
	{Name: "container.clusters.update", Why: "Upgrade and reconfigure clusters, and create, resize, upgrade and delete node pools."},
	{Name: "container.clusters.delete", Why: "Delete clusters that are no longer wanted."},
	{Name: "container.operations.get", Why: "Follow the long-running operations that cluster and node pool changes return."},
	{Name: "container.operations.list", Why: "Find operations still running after a restart, before starting conflicting ones."},
	{Name: "compute.networks.get", Why: "Check that the VPC network a cluster is placed in exists."},
	{Name: "compute.subnetworks.get", Why: "Check the subnet and secondary ranges that nodes, Pods and Services use."},
	{Name: "iam.serviceAccounts.actAs", Why: "Run cluster nodes as their node service account; GKE requires it when creating clusters and node pools."},
	{Name: "resourcemanager.projects.get", Why: "Read the project and its number, which names the node and GKE service agent accounts."},
}
