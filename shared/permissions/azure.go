package permissions

// AzureRoleName is the name of the custom role in infra/azure/role-definition.json that grants Azure.
const AzureRoleName = "Streamtime Fleet Provider"

// Azure lists the Azure RBAC actions the application registration needs, at subscription scope,
// to create and operate AKS clusters. Networking and identity actions are only the ones AKS checks
// against the caller when a cluster joins an existing subnet or uses a user-assigned identity;
// everything inside the node resource group is done by the cluster's own identity.
var Azure = []Permission{
	{Name: "Microsoft.Resources/subscriptions/resourceGroups/read", Why: "Find the resource groups that hold Streamtime's clusters."},
	{Name: "Microsoft.Resources/subscriptions/resourceGroups/write", Why: "Create the resource group a new cluster is placed in."},
	{Name: "Microsoft.ContainerService/managedClusters/read", Why: "Read AKS clusters to follow their state, version and health."},
	{Name: "Microsoft.ContainerService/managedClusters/write", Why: "Create AKS clusters and change their version and settings."},
	{Name: "Microsoft.ContainerService/managedClusters/delete", Why: "Delete AKS clusters when a fleet is removed."},
	{Name: "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", Why: "Get a kubeconfig to install and run workloads on the cluster."},
	{Name: "Microsoft.ContainerService/managedClusters/agentPools/read", Why: "Read node pools to follow their size and version."},
	{Name: "Microsoft.ContainerService/managedClusters/agentPools/write", Why: "Add, scale and upgrade node pools."},
	{Name: "Microsoft.ContainerService/managedClusters/agentPools/delete", Why: "Remove node pools that are no longer needed."},
	{Name: "Microsoft.ContainerService/locations/operations/read", Why: "Follow long-running cluster and node pool operations to completion."},
	{Name: "Microsoft.Network/virtualNetworks/read", Why: "Read the virtual network a cluster is placed in."},
	{Name: "Microsoft.Network/virtualNetworks/subnets/read", Why: "Read the subnets cluster nodes are placed in."},
	{Name: "Microsoft.Network/virtualNetworks/subnets/join/action", Why: "Attach cluster nodes to an existing subnet; AKS checks this on the caller."},
	{Name: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", Why: "Give a cluster its user-assigned control-plane identity; AKS checks this on the caller."},
}
