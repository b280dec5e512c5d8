package permissions

import (
	"slices"
	"strings"
)

// AWS lists the IAM actions Streamtime needs to create and operate EKS clusters with managed node
// groups in a customer's existing VPC. Auto Scaling and instance launches are absent on purpose:
// managed node groups run them through EKS's service-linked role, not the caller's permissions.
var AWS = []Permission{
	{"eks:CreateCluster", "create the cluster's control plane"},
	{"eks:DescribeCluster", "follow cluster creation and read its endpoint and certificate authority"},
	{"eks:ListClusters", "find the clusters Streamtime manages"},
	{"eks:UpdateClusterConfig", "change cluster settings such as endpoint access and control-plane logging"},
	{"eks:UpdateClusterVersion", "upgrade the cluster's Kubernetes version"},
	{"eks:DescribeUpdate", "follow cluster, node group and add-on updates until they finish"},
	{"eks:DeleteCluster", "delete a cluster"},
	{"eks:CreateNodegroup", "add managed worker nodes"},
	{"eks:DescribeNodegroup", "follow node group creation, scaling and health"},
	{"eks:ListNodegroups", "find a cluster's node groups, also before deleting it"},
	{"eks:UpdateNodegroupConfig", "scale node groups and change their labels and taints"},
	{"eks:UpdateNodegroupVersion", "upgrade nodes to a new Kubernetes version or AMI release"},
	{"eks:DeleteNodegroup", "remove node groups, which must go before their cluster"},
	{"eks:DescribeAddonVersions", "pick the add-on versions (VPC CNI, CoreDNS, kube-proxy) a Kubernetes version supports"},
	{"eks:CreateAddon", "install the networking and DNS add-ons as managed add-ons"},
	{"eks:DescribeAddon", "follow add-on installation and health"},
	{"eks:UpdateAddon", "upgrade add-ons together with the cluster"},
	{"eks:TagResource", "tag clusters and node groups as Streamtime's when creating them"},

	{"ec2:DescribeVpcs", "check the VPC chosen for a cluster"},
	{"ec2:DescribeSubnets", "check the subnets chosen for a cluster and their availability zones"},
	{"ec2:DescribeSecurityGroups", "find the cluster's security groups"},
	{"ec2:CreateSecurityGroup", "create a security group for a cluster's nodes"},
	{"ec2:AuthorizeSecurityGroupIngress", "let the control plane and the nodes reach each other"},
	{"ec2:RevokeSecurityGroupIngress", "remove node security group rules that are no longer needed"},
	{"ec2:DeleteSecurityGroup", "delete a cluster's node security group with the cluster"},
	{"ec2:CreateLaunchTemplate", "define node settings (disk, metadata options) for managed node groups"},
	{"ec2:CreateLaunchTemplateVersion", "change node settings during upgrades"},
	{"ec2:DescribeLaunchTemplates", "find the launch templates of a cluster's node groups"},
	{"ec2:DescribeLaunchTemplateVersions", "let EKS read the launch template a node group is created with"},
	{"ec2:DeleteLaunchTemplate", "delete node launch templates with their node group"},
	{"ec2:CreateTags", "tag security groups and launch templates as Streamtime's when creating them"},

	{"iam:PassRole", "hand the cluster role and the node role to EKS (only to EKS)"},
	{"iam:GetRole", "let EKS read the cluster and node roles when creating clusters and node groups"},
	{"iam:CreateServiceLinkedRole", "let EKS create its service-linked roles on an account's first cluster and node group"},
}

// AWSValidation lists what validation itself uses beyond AWS. Cluster management does not need
// it, so without it a provider is unverified rather than invalid; the customer-facing policy
// documents grant AWS and AWSValidation together.
var AWSValidation = []Permission{
	{"iam:SimulatePrincipalPolicy", "let Streamtime verify the other permissions without creating anything"},
}

// AWSPolicyActions is every action the customer-facing policy documents grant.
func AWSPolicyActions() []string {
	return append(Names(AWS), Names(AWSValidation)...)
}

// AWSConditions narrows actions that would be too broad on every resource. The policy documents
// carry these conditions, and a simulation must supply the same keys as context.
var AWSConditions = map[string]map[string]map[string][]string{
	"iam:PassRole": {
		"StringEquals": {"iam:PassedToService": {"eks.amazonaws.com"}},
	},
	"iam:CreateServiceLinkedRole": {
		"StringEquals": {"iam:AWSServiceName": {"eks.amazonaws.com", "eks-nodegroup.amazonaws.com"}},
	},
}

// IAMPolicy is an IAM policy document.
type IAMPolicy struct {
	Version   string         `json:"Version"`
	Statement []IAMStatement `json:"Statement"`
}

// IAMStatement is one statement of an IAMPolicy.
type IAMStatement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  string                         `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// AWSPolicy returns the policy document granting actions: one statement per service for the
// actions without conditions and one per action with AWSConditions, in the order of actions.
// The customer-facing policy in infra/aws and validation's remediation snippets both come from it.
func AWSPolicy(actions []string) IAMPolicy {
	doc := IAMPolicy{Version: "2012-10-17", Statement: []IAMStatement{}}
	bySid := map[string]int{}
	for _, a := range actions {
		service, name, _ := strings.Cut(a, ":")
		sid := strings.ToUpper(service)
		cond := AWSConditions[a]
		if cond != nil {
			sid += name
		}
		i, ok := bySid[sid]
		if !ok {
			i = len(doc.Statement)
			bySid[sid] = i
			doc.Statement = append(doc.Statement, IAMStatement{Sid: sid, Effect: "Allow", Resource: "*", Condition: cond})
		}
		if !slices.Contains(doc.Statement[i].Action, a) {
			doc.Statement[i].Action = append(doc.Statement[i].Action, a)
		}
	}
	return doc
}
