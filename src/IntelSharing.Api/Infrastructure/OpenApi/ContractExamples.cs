using System.Text.Json.Nodes;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// The examples the OpenAPI document shows integrators: the Western Balkans route and the CERT world, with fixed
/// ids and times so the document is the same on every build. Each response example is what the API answers to
/// the request example beside it (the contract tests submit the requests and compare), so they cannot drift.
/// Every call returns new nodes: a JsonNode belongs to one parent, and each document build attaches them afresh.
/// </summary>
public static class ContractExamples
{
    public const string OperatorId = "01a19b89-8c21-745f-bb36-8b90b4b0ed9f";
    public const string BorderPoliceId = "01a19b8f-7174-7b23-81fc-779effc19fb7";
    public const string BorderPoliceName = "Ministry of Interior of the Republic of Serbia — Border Police Directorate";
    public const string CertId = "01a19b90-f3b8-7292-b8a8-65e149e36198";
    public const string CertName = "National CERT of the Republic of Serbia";
    public const string HungarianPoliceId = "01a1a116-22c6-7c19-8744-b5bae0284947";
    public const string EuropolId = "01a1a117-92df-7704-a246-bd46b53b2e2c";
    public const string BorderPoliceKeyId = "01a19b99-12f3-70ac-a104-38e07bffb80e";
    public const string SmugglingAlertId = "01a1fa58-491e-7ca1-9f35-744d4250ed11";
    public const string CyberAlertId = "01a1f803-e7a1-7e35-b27c-df7eb07f267a";

    /// <summary>When the smuggling alert example was published (the contract tests set their clock to it).</summary>
    public static readonly DateTimeOffset SmugglingPublishedAt = DateTimeOffset.Parse("2026-11-20T19:04:12.318204+00:00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>When the cyber alert example was published.</summary>
    public static readonly DateTimeOffset CyberPublishedAt = DateTimeOffset.Parse("2026-11-20T08:12:47.90531+00:00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>When the Border Police agency example was registered.</summary>
    public static readonly DateTimeOffset BorderPoliceRegisteredAt = DateTimeOffset.Parse("2026-11-02T09:20:31.604812+00:00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>When the Border Police key example was issued.</summary>
    public static readonly DateTimeOffset BorderPoliceKeyIssuedAt = DateTimeOffset.Parse("2026-11-02T09:31:02.771904+00:00", System.Globalization.CultureInfo.InvariantCulture);

    public static JsonNode SmugglingAlertInput() => Parse(
        """
        {
          "category": "migrant_smuggling",
          "title": "About 40 people to be moved from Preševo to the Horgoš–Röszke crossing tonight",
          "summary": "A network calling itself 'Kurdish route' is gathering about 40 people near Preševo for transport to Subotica in a refrigerated truck with forged CMR documents. The group is to be handed over to a second crew that attempts the Horgoš–Röszke crossing into Hungary after midnight.",
          "severity": "high",
          "tlp": "amber",
          "handling": { "code": "H1" },
          "evaluation": { "source": "B", "information": "2" },
          "basis": "assessment",
          "countries": ["RS", "HU", "MK"],
          "smuggling": {
            "route": [
              { "place": "Gevgelija", "country": "MK" },
              { "place": "Preševo", "country": "RS" },
              { "place": "Belgrade", "country": "RS" },
              { "place": "Subotica", "country": "RS" }
            ],
            "crossingPoints": [ { "name": "Horgoš–Röszke", "countries": ["RS", "HU"] } ],
            "modusOperandi": "Concealment in a refrigerated truck with forged CMR documents; a scout car drives ahead of the truck.",
            "estimatedPeople": 40,
            "networkNames": ["Kurdish route"]
          },
          "indicators": [
            { "type": "phone", "value": "+381 64 123 4567", "description": "Driver's phone" },
            { "type": "vehicle_plate", "value": "SU 123-AB", "description": "Refrigerated truck" },
            { "type": "iban", "value": "RS35 2600 0560 1001 6113 79", "description": "Account receiving the fees" }
          ],
          "persons": [
            { "fullName": "Dragan Petrović", "category": "suspect", "dateOfBirth": "1984-03-12", "nationality": "RS", "aliases": ["Gagi"] }
          ],
          "observedAt": "2026-11-20T18:30:00Z",
          "reviewAt": "2027-05-20T00:00:00Z",
          "expiresAt": "2027-11-20T00:00:00Z"
        }
        """);

    public static JsonNode SmugglingAlertView() => Parse(
        $$"""
        {
          "id": "{{SmugglingAlertId}}",
          "version": 1,
          "status": "active",
          "category": "migrant_smuggling",
          "title": "About 40 people to be moved from Preševo to the Horgoš–Röszke crossing tonight",
          "summary": "A network calling itself 'Kurdish route' is gathering about 40 people near Preševo for transport to Subotica in a refrigerated truck with forged CMR documents. The group is to be handed over to a second crew that attempts the Horgoš–Röszke crossing into Hungary after midnight.",
          "severity": "high",
          "tlp": "amber",
          "handling": { "code": "H1" },
          "evaluation": { "source": "B", "information": "2" },
          "basis": "assessment",
          "countries": ["RS", "HU", "MK"],
          "originator": { "id": "{{BorderPoliceId}}", "name": "{{BorderPoliceName}}", "country": "RS" },
          "audience": [],
          "smuggling": {
            "route": [
              { "place": "Gevgelija", "country": "MK" },
              { "place": "Preševo", "country": "RS" },
              { "place": "Belgrade", "country": "RS" },
              { "place": "Subotica", "country": "RS" }
            ],
            "crossingPoints": [ { "name": "Horgoš–Röszke", "countries": ["RS", "HU"] } ],
            "modusOperandi": "Concealment in a refrigerated truck with forged CMR documents; a scout car drives ahead of the truck.",
            "estimatedPeople": 40,
            "networkNames": ["Kurdish route"]
          },
          "indicators": [
            { "type": "phone", "value": "+381641234567", "submitted": "+381 64 123 4567", "description": "Driver's phone" },
            { "type": "vehicle_plate", "value": "SU123AB", "submitted": "SU 123-AB", "description": "Refrigerated truck" },
            { "type": "iban", "value": "RS35260005601001611379", "submitted": "RS35 2600 0560 1001 6113 79", "description": "Account receiving the fees" }
          ],
          "persons": [
            { "fullName": "Dragan Petrović", "category": "suspect", "dateOfBirth": "1984-03-12", "nationality": "RS", "aliases": ["Gagi"] }
          ],
          "observedAt": "2026-11-20T18:30:00+00:00",
          "reviewAt": "2027-05-20T00:00:00+00:00",
          "expiresAt": "2027-11-20T00:00:00+00:00",
          "createdAt": "2026-11-20T19:04:12.318204+00:00",
          "updatedAt": "2026-11-20T19:04:12.318204+00:00"
        }
        """);

    public static JsonNode CyberAlertInput() => Parse(
        """
        {
          "category": "cyber_incident",
          "title": "Spear-phishing links imitating the eUprava portal target ministry staff",
          "summary": "E-mails in Serbian that appear to come from the eUprava (Serbian eGovernment) help desk carry links to a credential-harvesting page. The links use the Outlook MonikerLink technique, so opening them can also leak NTLM credentials on unpatched clients.",
          "severity": "high",
          "tlp": "green",
          "handling": { "code": "H0" },
          "evaluation": { "source": "A", "information": "1" },
          "basis": "fact",
          "countries": ["RS"],
          "cyber": {
            "incidentType": "phishing",
            "sector": "government",
            "attackTechniques": ["T1566.002", "T1204.001"],
            "cves": ["CVE-2024-21413"]
          },
          "indicators": [
            { "type": "domain", "value": "eUprava-Prijava.example.com", "description": "Credential-harvesting site" },
            { "type": "url", "value": "https://euprava-prijava.example.com/login", "description": "Link in the e-mails" },
            { "type": "email", "value": "podrska@euprava-prijava.example.com", "description": "Sender" },
            { "type": "ipv4", "value": "185.220.101.4", "description": "Hosting" }
          ],
          "observedAt": "2026-11-19T07:45:00Z"
        }
        """);

    public static JsonNode CyberAlertView() => Parse(
        $$"""
        {
          "id": "{{CyberAlertId}}",
          "version": 1,
          "status": "active",
          "category": "cyber_incident",
          "title": "Spear-phishing links imitating the eUprava portal target ministry staff",
          "summary": "E-mails in Serbian that appear to come from the eUprava (Serbian eGovernment) help desk carry links to a credential-harvesting page. The links use the Outlook MonikerLink technique, so opening them can also leak NTLM credentials on unpatched clients.",
          "severity": "high",
          "tlp": "green",
          "handling": { "code": "H0" },
          "evaluation": { "source": "A", "information": "1" },
          "basis": "fact",
          "countries": ["RS"],
          "originator": { "id": "{{CertId}}", "name": "{{CertName}}", "country": "RS" },
          "audience": [],
          "cyber": {
            "incidentType": "phishing",
            "sector": "government",
            "attackTechniques": ["T1566.002", "T1204.001"],
            "cves": ["CVE-2024-21413"]
          },
          "indicators": [
            { "type": "domain", "value": "euprava-prijava.example.com", "submitted": "eUprava-Prijava.example.com", "description": "Credential-harvesting site" },
            { "type": "url", "value": "https://euprava-prijava.example.com/login", "description": "Link in the e-mails" },
            { "type": "email", "value": "podrska@euprava-prijava.example.com", "description": "Sender" },
            { "type": "ipv4", "value": "185.220.101.4", "description": "Hosting" }
          ],
          "persons": [],
          "observedAt": "2026-11-19T07:45:00+00:00",
          "createdAt": "2026-11-20T08:12:47.90531+00:00",
          "updatedAt": "2026-11-20T08:12:47.90531+00:00"
        }
        """);

    /// <summary>A first page of two with more to come: oldest change first.</summary>
    public static JsonNode AlertPage() => new JsonObject
    {
        ["items"] = new JsonArray(CyberAlertView(), SmugglingAlertView()),
        ["nextCursor"] = "AQjfcmYOW6Rw-BQuJkx8u5Ze3O9tT5fVrUzSH4CEbpqLQm0c1YFi1A8rM3vNxzs9Eg",
    };

    public static JsonNode LastAlertPage() => new JsonObject
    {
        ["items"] = new JsonArray(),
        ["nextCursor"] = null,
    };

    public static JsonNode BorderPoliceInput() => Parse(
        $$"""
        { "name": "{{BorderPoliceName}}", "country": "RS", "kind": "border_guard" }
        """);

    public static JsonNode EuropolInput() => Parse(
        """
        { "name": "Europol — European Migrant Smuggling Centre", "country": "NL", "kind": "eu_agency" }
        """);

    public static JsonNode BorderPoliceView() => Parse(
        $$"""
        {
          "id": "{{BorderPoliceId}}",
          "name": "{{BorderPoliceName}}",
          "country": "RS",
          "kind": "border_guard",
          "isActive": true,
          "createdAt": "2026-11-02T09:20:31.604812+00:00",
          "updatedAt": "2026-11-02T09:20:31.604812+00:00"
        }
        """);

    /// <summary>The directory, oldest registration first, in one page.</summary>
    public static JsonNode AgencyList() => Parse(
        $$"""
        {
          "items": [
            {
              "id": "{{BorderPoliceId}}",
              "name": "{{BorderPoliceName}}",
              "country": "RS",
              "kind": "border_guard",
              "isActive": true,
              "createdAt": "2026-11-02T09:20:31.604812+00:00",
              "updatedAt": "2026-11-02T09:20:31.604812+00:00"
            },
            {
              "id": "{{CertId}}",
              "name": "{{CertName}}",
              "country": "RS",
              "kind": "cert",
              "isActive": true,
              "createdAt": "2026-11-02T09:22:10.48817+00:00",
              "updatedAt": "2026-11-02T09:22:10.48817+00:00"
            },
            {
              "id": "{{HungarianPoliceId}}",
              "name": "Hungarian National Police — Csongrád-Csanád County Police Headquarters",
              "country": "HU",
              "kind": "police",
              "isActive": true,
              "createdAt": "2026-11-03T11:05:44.902356+00:00",
              "updatedAt": "2026-11-03T11:05:44.902356+00:00"
            },
            {
              "id": "{{EuropolId}}",
              "name": "Europol — European Migrant Smuggling Centre",
              "country": "NL",
              "kind": "eu_agency",
              "isActive": true,
              "createdAt": "2026-11-03T11:07:19.135087+00:00",
              "updatedAt": "2026-11-03T11:07:19.135087+00:00"
            }
          ],
          "nextCursor": null
        }
        """);

    public static JsonNode ApiKeyInput() => Parse(
        """
        { "name": "Border Police case system (production)", "scopes": ["alerts:write", "alerts:read"] }
        """);

    public static JsonNode IssuedApiKey() => Parse(
        $$"""
        {
          "id": "{{BorderPoliceKeyId}}",
          "prefix": "k7m2q9x4ta",
          "key": "isk_k7m2q9x4ta_VmikmUqFRw7krsHEARBbqIMZYVwyBU5KlvFVaVc36Mk",
          "scopes": ["alerts:write", "alerts:read"],
          "createdAt": "2026-11-02T09:31:02.771904+00:00"
        }
        """);

    /// <summary>Prefixes only: the secret part of a key is never shown again after it is issued.</summary>
    public static JsonNode ApiKeyList() => Parse(
        $$"""
        {
          "items": [
            {
              "id": "{{BorderPoliceKeyId}}",
              "prefix": "k7m2q9x4ta",
              "name": "Border Police case system (production)",
              "scopes": ["alerts:write", "alerts:read"],
              "createdAt": "2026-11-02T09:31:02.771904+00:00"
            },
            {
              "id": "01a19b9d-cce1-7098-be6c-c026c26a3505",
              "prefix": "p4wq8ne3hc",
              "name": "Border Police test system",
              "scopes": ["alerts:read"],
              "createdAt": "2026-11-02T09:36:12.51377+00:00",
              "revokedAt": "2026-11-10T14:02:55.3011+00:00"
            }
          ],
          "nextCursor": null
        }
        """);

    public static JsonNode StixBundle() => Parse(
        $$"""
        {
          "type": "bundle",
          "id": "bundle--2f0c6b4e-5a1d-5c3e-9b7a-4d2e8f1a6c90",
          "objects": [
            {
              "type": "marking-definition",
              "spec_version": "2.1",
              "id": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
              "created": "2022-10-01T00:00:00.000Z",
              "name": "TLP:AMBER",
              "extensions": { "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": { "extension_type": "property-extension", "tlp_2_0": "amber" } }
            },
            {
              "type": "identity",
              "spec_version": "2.1",
              "id": "identity--{{BorderPoliceId}}",
              "created": "2026-11-02T09:20:31.604Z",
              "modified": "2026-11-02T09:20:31.604Z",
              "name": "{{BorderPoliceName}}",
              "identity_class": "organization",
              "sectors": ["government-national"]
            },
            {
              "type": "report",
              "spec_version": "2.1",
              "id": "report--{{SmugglingAlertId}}",
              "created_by_ref": "identity--{{BorderPoliceId}}",
              "created": "2026-11-20T19:04:12.318Z",
              "modified": "2026-11-20T19:04:12.318Z",
              "name": "About 40 people to be moved from Preševo to the Horgoš–Röszke crossing tonight",
              "published": "2026-11-20T19:04:12.318Z",
              "report_types": ["threat-report"],
              "object_refs": ["identity--{{BorderPoliceId}}"],
              "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
            }
          ]
        }
        """);

    public static JsonNode ValidationProblem() => Parse(
        """
        {
          "type": "urn:intelsharing:problem:validation",
          "title": "The request is invalid",
          "status": 400,
          "detail": "3 fields are invalid: smuggling, reviewAt, expiresAt.",
          "instance": "/api/v1/alerts",
          "errors": {
            "smuggling": ["A migrant_smuggling alert carries the 'smuggling' section."],
            "reviewAt": ["An alert that names persons must carry reviewAt."],
            "expiresAt": ["An alert that names persons must carry expiresAt."]
          },
          "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        }
        """);

    public static JsonNode MalformedBodyProblem() => Parse(
        """
        {
          "type": "urn:intelsharing:problem:malformed-request",
          "title": "The request body is not valid JSON for this operation",
          "status": 400,
          "detail": "'tlp': 'AMBER' is not one of the allowed values: clear, green, amber, amber+strict, red.",
          "instance": "/api/v1/alerts",
          "errors": { "tlp": ["'AMBER' is not one of the allowed values: clear, green, amber, amber+strict, red."] },
          "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-5c1e2a7d9b3f4e60-01"
        }
        """);

    public static JsonNode ListFilterProblem() => Parse(
        """
        {
          "type": "urn:intelsharing:problem:validation",
          "title": "The request is invalid",
          "status": 400,
          "detail": "2 fields are invalid: severity, limit.",
          "instance": "/api/v1/alerts",
          "errors": {
            "severity": ["'urgent' is not a severity (low, medium, high, critical)."],
            "limit": ["limit must be a whole number from 1 to 200."]
          },
          "traceId": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        }
        """);

    public static JsonNode IdempotencyKeyReusedProblem() => Parse(
        """
        {
          "type": "urn:intelsharing:problem:idempotency-key-reused",
          "title": "Idempotency key reused",
          "status": 409,
          "detail": "This Idempotency-Key was already used with a different request body. Use a new key for a new alert.",
          "instance": "/api/v1/alerts",
          "traceId": "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
        }
        """);

    public static JsonNode AlertNotFoundProblem() => Parse(
        $$"""
        {
          "type": "urn:intelsharing:problem:not-found",
          "title": "Not found",
          "status": 404,
          "detail": "No alert with that id is visible to you.",
          "instance": "/api/v1/alerts/{{SmugglingAlertId}}",
          "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-a3ce929d0e0e4736-01"
        }
        """);

    public static JsonNode AgencyNameTakenProblem() => Parse(
        $$"""
        {
          "type": "urn:intelsharing:problem:conflict",
          "title": "Conflict",
          "status": 409,
          "detail": "An agency named '{{BorderPoliceName}}' is already registered.",
          "instance": "/api/v1/agencies",
          "traceId": "00-0af7651916cd43dd8448eb211c80319c-8448eb211c80319c-01"
        }
        """);

    public static JsonNode UnauthenticatedProblem() => Parse(
        """
        {
          "type": "urn:intelsharing:problem:unauthenticated",
          "title": "Authentication required",
          "status": 401,
          "detail": "The API key is revoked, expired, or belongs to a deactivated agency.",
          "instance": "/api/v1/alerts",
          "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-e929d0e0e4736a3c-01"
        }
        """);

    public static JsonNode ForbiddenProblem() => Parse(
        """
        {
          "type": "urn:intelsharing:problem:forbidden",
          "title": "Forbidden",
          "status": 403,
          "detail": "Your API key lacks the scope this operation requires: alerts:write.",
          "instance": "/api/v1/alerts",
          "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-77b34da6a3ce929d-01"
        }
        """);

    private static JsonNode Parse(string json) => JsonNode.Parse(json)!;
}
