package provider

var guidRE = newPattern(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`, 0)

const guidRule = "a GUID such as 00000000-0000-0000-0000-000000000000"

var azureSchema = schema{
	fields: []field{
		{name: "tenant_id", required: true, parse: matching(guidRE, guidRule)},
		{name: "client_id", required: true, parse: matching(guidRE, guidRule)},
		{name: "client_secret", secret: true, required: true, parse: secretString(1024, nil, "")},
		{name: "subscription_id", required: true, parse: matching(guidRE, guidRule)},
	},
}
