// The MARAC bot in one resource group: the Azure Bot (Teams channel), the bot on Azure
// Container Apps (one replica always on: the timers run in the process), PostgreSQL Flexible
// Server on a private network, Key Vault holding the keys, a user-assigned managed identity
// through which the bot reaches Bot Framework, Graph, Key Vault and PostgreSQL without a
// secret, and Log Analytics with Application Insights. docs/operations.md says how to deploy.
//
// Everything is created in `location` (UK South by default) except the Azure Bot, which is
// a global or regional (EU) resource: see `botLocation`.

targetScope = 'resourceGroup'

@description('Azure region for every regional resource. UK South keeps the data in the UK.')
param location string = 'uksouth'

@description('The Azure Bot resource\'s location: "global", or "westeurope" to keep the Bot Service\'s processing inside the EU Data Boundary (it offers no UK region).')
@allowed([
  'global'
  'westeurope'
])
param botLocation string = 'global'

@description('Short name used in every resource name, e.g. marac-riverside.')
@minLength(3)
@maxLength(20)
param name string = 'marac'

@description('dev or prod: prod turns on zone redundancy and high availability.')
@allowed([
  'dev'
  'prod'
])
param environmentName string = 'dev'

@description('The bot\'s container image, e.g. myregistry.azurecr.io/marac-bot:1.4.0.')
param containerImage string

@description('The container registry\'s login server (the managed identity pulls from it); empty for a public image.')
param containerRegistry string = ''

@description('Most replicas under load; at least one always runs.')
@minValue(1)
@maxValue(10)
param maxReplicas int = 3

@description('Object id of the Entra group of database administrators (break-glass and migrations by hand).')
param postgresAdminGroupObjectId string

@description('Display name of that Entra group.')
param postgresAdminGroupName string

@description('The Microsoft Graph mailbox plans are sent from; empty turns email off.')
param graphSender string = ''

@secure()
@description('MARAC_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first). Needed on the first deployment; empty later: the Key Vault secret is left as it is (docs/operations.md).')
param encryptionKeys string = ''

@secure()
@description('MARAC_INDEX_KEY. Needed on the first deployment; empty later: the Key Vault secret is left as it is.')
param indexKey string = ''

@secure()
@description('The Graph client secret, only where the managed identity cannot be given Mail.Send (the fallback). Empty: none is stored.')
param graphClientSecret string = ''

@description('When the Graph client secret (if any) expires in Key Vault: six months on.')
param graphSecretExpiry string = dateTimeAdd(utcNow(), 'P180D')

@description('Tags for every resource.')
param tags object = {
  application: 'marac-bot'
  environment: environmentName
  dataClassification: 'OFFICIAL-SENSITIVE'
}

var prod = environmentName == 'prod'
var suffix = uniqueString(resourceGroup().id, name)
var keyVaultName = take('kv-${name}-${suffix}', 24)
var postgresName = 'psql-${name}-${suffix}'
var databaseName = 'marac'
// Key Vault Secrets User: read secret values, nothing else.
var secretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6'

// ---------------------------------------------------------------- identity

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------- monitoring

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${name}-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 90
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${name}-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: false
    IngestionMode: 'LogAnalytics'
  }
}

// ---------------------------------------------------------------- network

resource network 'Microsoft.Network/virtualNetworks@2024-01-01' = {
  name: 'vnet-${name}'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.40.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'apps'
        properties: {
          addressPrefix: '10.40.0.0/23'
          delegations: [
            {
              name: 'apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'postgres'
        properties: {
          addressPrefix: '10.40.2.0/24'
          delegations: [
            {
              name: 'postgres'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: '10.40.3.0/24'
        }
      }
    ]
  }
}

resource postgresDns 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: '${postgresName}.private.postgres.database.azure.com'
  location: 'global'
  tags: tags
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: postgresDns
  name: 'vnet'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: network.id
    }
  }
}

resource vaultDns 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: 'privatelink.vaultcore.azure.net'
  location: 'global'
  tags: tags
}

resource vaultDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: vaultDns
  name: 'vnet'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: network.id
    }
  }
}

// ---------------------------------------------------------------- Key Vault

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'premium'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Losing the encryption key loses every case: nobody, not even an owner, can purge it.
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
    }
  }
}

resource vaultEndpoint 'Microsoft.Network/privateEndpoints@2024-01-01' = {
  name: 'pe-${keyVaultName}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: '${network.id}/subnets/endpoints'
    }
    privateLinkServiceConnections: [
      {
        name: 'vault'
        properties: {
          privateLinkServiceId: vault.id
          groupIds: [
            'vault'
          ]
        }
      }
    ]
  }
}

resource vaultEndpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-01-01' = {
  parent: vaultEndpoint
  name: 'vault'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'vault'
        properties: {
          privateDnsZoneId: vaultDns.id
        }
      }
    ]
  }
}

resource botReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, secretsUserRole)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRole)
  }
}

// The keys have no expiry date: data encrypted with them must stay readable until it is
// re-encrypted under a newer key (`marac rotate-keys`), which the runbook does on its own
// schedule. An expiry would make Key Vault refuse the key and the bot stop reading cases.
resource encryptionKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(encryptionKeys)) {
  parent: vault
  name: 'marac-encryption-keys'
  properties: {
    value: encryptionKeys
    contentType: 'text/plain; Fernet keys, comma-separated, newest first'
  }
  // checkov:skip=CKV_AZURE_41:An expiry would lock the bot out of data encrypted under the key; rotation is by `marac rotate-keys` (docs/operations.md).
  // checkov:skip=CKV_AZURE_114:contentType is set above; checkov's Bicep parser does not read a conditional resource's properties.
}

resource indexKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(indexKey)) {
  parent: vault
  name: 'marac-index-key'
  properties: {
    value: indexKey
    contentType: 'text/plain; HMAC key for the duplicate-victim index'
  }
  // checkov:skip=CKV_AZURE_41:Changing the index key means re-indexing every case; it does not expire on a date.
  // checkov:skip=CKV_AZURE_114:contentType is set above; checkov's Bicep parser does not read a conditional resource's properties.
}

resource graphSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphClientSecret)) {
  parent: vault
  name: 'graph-client-secret'
  properties: {
    value: graphClientSecret
    contentType: 'text/plain; Entra client secret (fallback to the managed identity)'
    attributes: {
      exp: dateTimeToEpoch(graphSecretExpiry)
    }
  }
  // checkov:skip=CKV_AZURE_41:exp is set above; checkov's Bicep parser does not read a conditional resource's properties.
  // checkov:skip=CKV_AZURE_114:contentType is set above, likewise.
}

// ---------------------------------------------------------------- PostgreSQL

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: postgresName
  location: location
  tags: tags
  sku: {
    name: prod ? 'Standard_D2ds_v5' : 'Standard_B1ms'
    tier: prod ? 'GeneralPurpose' : 'Burstable'
  }
  properties: {
    version: '16'
    storage: {
      storageSizeGB: 64
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 35
      // The paired region of UK South is UK West: the geo-backup stays in the UK.
      geoRedundantBackup: 'Enabled'
    }
    highAvailability: {
      mode: prod ? 'ZoneRedundant' : 'Disabled'
    }
    network: {
      delegatedSubnetResourceId: '${network.id}/subnets/postgres'
      privateDnsZoneArmResourceId: postgresDns.id
      publicNetworkAccess: 'Disabled'
    }
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
  }
  dependsOn: [
    postgresDnsLink
  ]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

resource postgresAdmins 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: postgres
  name: postgresAdminGroupObjectId
  properties: {
    principalName: postgresAdminGroupName
    principalType: 'Group'
    tenantId: tenant().tenantId
  }
}

// The bot's identity is an Entra administrator too: it owns the schema it migrates.
resource postgresBot 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: postgres
  name: identity.properties.principalId
  properties: {
    principalName: identity.name
    principalType: 'ServicePrincipal'
    tenantId: tenant().tenantId
  }
  dependsOn: [
    postgresAdmins
  ]
}

resource postgresLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: postgres
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

// ---------------------------------------------------------------- the bot

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${name}'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    vnetConfiguration: {
      infrastructureSubnetId: '${network.id}/subnets/apps'
      internal: false
    }
    zoneRedundant: prod
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

var keyVaultSecrets = concat([
  {
    name: 'marac-encryption-keys'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/marac-encryption-keys'
    identity: identity.id
  }
  {
    name: 'marac-index-key'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/marac-index-key'
    identity: identity.id
  }
], empty(graphClientSecret) ? [] : [
  {
    name: 'graph-client-secret'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/graph-client-secret'
    identity: identity.id
  }
])

var graphEnv = empty(graphSender) ? [] : concat([
  {
    name: 'GRAPH_TENANT_ID'
    value: tenant().tenantId
  }
  {
    name: 'GRAPH_CLIENT_ID'
    value: identity.properties.clientId
  }
  {
    name: 'GRAPH_SENDER'
    value: graphSender
  }
], empty(graphClientSecret) ? [
  {
    name: 'GRAPH_MANAGED_IDENTITY'
    value: 'true'
  }
] : [
  {
    name: 'GRAPH_CLIENT_SECRET'
    secretRef: 'graph-client-secret' // checkov:skip=CKV_SECRET_6:the name of a Key Vault reference, not a secret
  }
])

var botEnv = concat([
  {
    name: 'MicrosoftAppType'
    value: 'UserAssignedMSI'
  }
  {
    name: 'MicrosoftAppId'
    value: identity.properties.clientId
  }
  {
    name: 'MicrosoftAppTenantId'
    value: tenant().tenantId
  }
  {
    name: 'DATABASE_URL'
    value: 'postgresql+asyncpg://${identity.name}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?ssl=require'
  }
  {
    // The database password is a token of the managed identity (storage.entra).
    name: 'DATABASE_MANAGED_IDENTITY_CLIENT_ID'
    value: identity.properties.clientId
  }
  {
    name: 'MARAC_ENCRYPTION_KEYS'
    secretRef: 'marac-encryption-keys' // checkov:skip=CKV_SECRET_6:the name of a Key Vault reference, not a secret
  }
  {
    name: 'MARAC_INDEX_KEY'
    secretRef: 'marac-index-key' // checkov:skip=CKV_SECRET_6:the name of a Key Vault reference, not a secret
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: insights.properties.ConnectionString
  }
  {
    name: 'LOG_FORMAT'
    value: 'json'
  }
  {
    name: 'PUBLIC_URL'
    value: 'https://${name}.${environment.properties.defaultDomain}'
  }
], graphEnv)

var registries = empty(containerRegistry) ? [] : [
  {
    server: containerRegistry
    identity: identity.id
  }
]

resource bot 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 3978
        transport: 'http'
        allowInsecure: false
      }
      secrets: keyVaultSecrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'bot'
          image: containerImage
          args: [
            'serve'
          ]
          env: botEnv
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/livez'
                port: 3978
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 3978
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: {
                path: '/livez'
                port: 3978
              }
              periodSeconds: 2
              failureThreshold: 30
            }
          ]
        }
      ]
      scale: {
        // The timers (case lists, reminders, slot warnings, the outbox) run in the process.
        minReplicas: 1
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: {
              metadata: {
                concurrentRequests: '50'
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    botReadsSecrets
    postgresBot
  ]
}

// `marac db upgrade`, run by hand (or by the pipeline) before a new revision takes traffic.
resource migrate 'Microsoft.App/jobs@2024-03-01' = {
  name: '${name}-migrate'
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 1800
      replicaRetryLimit: 0
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      secrets: keyVaultSecrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'migrate'
          image: containerImage
          args: [
            'db'
            'upgrade'
          ]
          env: botEnv
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
        }
      ]
    }
  }
  dependsOn: [
    botReadsSecrets
    postgresBot
  ]
}

// ---------------------------------------------------------------- Azure Bot

resource azureBot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot-${name}-${suffix}'
  location: botLocation
  tags: tags
  kind: 'azurebot'
  sku: {
    name: 'S1'
  }
  properties: {
    displayName: 'MARAC'
    endpoint: 'https://${bot.properties.configuration.ingress.fqdn}/api/messages'
    msaAppId: identity.properties.clientId
    msaAppType: 'UserAssignedMSI'
    msaAppMSIResourceId: identity.id
    msaAppTenantId: tenant().tenantId
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: azureBot
  name: 'MsTeamsChannel'
  location: botLocation
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

// ---------------------------------------------------------------- alerts

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for alert in [
  {
    name: 'outbox-oldest-age'
    description: 'An outbox message has waited over 30 minutes: plans or case lists are not leaving.'
    query: 'customMetrics | where name == "marac.outbox.oldest_age" | summarize value = max(value) by bin(timestamp, 5m) | where value > 1800'
  }
  {
    name: 'outbox-failed'
    description: 'Outbox deliveries are failing.'
    query: 'customMetrics | where name == "marac.outbox.failed_deliveries" | summarize value = sum(valueSum) by bin(timestamp, 15m) | where value > 10'
  }
  {
    name: 'teams-throttling'
    description: 'Teams is answering 429: the bot is being throttled.'
    query: 'customMetrics | where name == "marac.teams.throttled" | summarize value = sum(valueSum) by bin(timestamp, 15m) | where value > 20'
  }
  {
    name: 'timer-lag'
    description: 'The timer is running late (ticks more than a minute behind).'
    query: 'customMetrics | where name == "marac.timer.lag" | summarize value = max(valueMax) by bin(timestamp, 5m) | where value > 60'
  }
  {
    name: 'no-ready-replica'
    description: 'No timer tick reported for 10 minutes: no replica is ready, or none runs.'
    query: 'customMetrics | where name == "marac.timer.lag" and timestamp > ago(10m) | count | where Count == 0'
  }
]: {
  name: 'alert-${name}-${alert.name}'
  location: location
  tags: tags
  properties: {
    displayName: 'MARAC ${alert.name}'
    description: alert.description
    severity: 2
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [
      insights.id
    ]
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
  }
}]

output botId string = identity.properties.clientId
output botDomain string = bot.properties.configuration.ingress.fqdn
output keyVaultName string = vault.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output migrationJob string = migrate.name
