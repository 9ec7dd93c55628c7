using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>Realistic alerts from the Western Balkans route and the CERT world, as JSON the tests can mutate.</summary>
public static class Samples
{
    public static JsonObject SmugglingAlert() => (JsonObject)JsonNode.Parse(
        """
        {
          "category": "migrant_smuggling",
          "title": "Group of about 40 expected at Horgoš–Röszke tonight",
          "summary": "A network using the name 'Kurdish route' moves about 40 people from Preševo towards Subotica in a refrigerated truck, crossing near Horgoš.",
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
              { "place": "Subotica", "country": "RS" }
            ],
            "crossingPoints": [ { "name": "Horgoš–Röszke", "countries": ["RS", "HU"] } ],
            "modusOperandi": "Concealment in a refrigerated truck with forged CMR documents",
            "estimatedPeople": 40,
            "networkNames": ["Kurdish route"]
          },
          "indicators": [
            { "type": "phone", "value": "+381 64 123 4567", "description": "Driver's phone" },
            { "type": "vehicle_plate", "value": "SU 123-AB" },
            { "type": "iban", "value": "RS35 2600 0560 1001 6113 79" }
          ]
        }
        """)!;

    public static JsonObject CyberAlert() => (JsonObject)JsonNode.Parse(
        """
        {
          "category": "cyber_incident",
          "title": "Phishing campaign impersonating the Ministry of Interior e-services",
          "summary": "Spoofed e-mails lead to a credential-harvesting page imitating the eUprava login. Infrastructure hosted abroad.",
          "severity": "medium",
          "tlp": "green",
          "handling": { "code": "H0" },
          "evaluation": { "source": "A", "information": "1" },
          "basis": "fact",
          "countries": ["RS", "BA"],
          "cyber": {
            "incidentType": "phishing",
            "sector": "government",
            "attackTechniques": ["T1566", "T1566.002"],
            "cves": ["CVE-2024-3400"]
          },
          "indicators": [
            { "type": "domain", "value": "euprava-login.example.com" },
            { "type": "ipv4", "value": "185.220.101.4" },
            { "type": "sha256", "value": "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08" }
          ]
        }
        """)!;

    /// <summary>POST /api/v1/alerts with <paramref name="alert"/>, and an Idempotency-Key when one is given.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, JsonObject alert, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = Json(alert) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request, cancellationToken);
    }

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>Every item of a list, following nextCursor to the end at the largest page size (path may carry filters).</summary>
    public static async Task<List<JsonElement>> ReadAllItemsAsync(this HttpClient client, string path, CancellationToken cancellationToken)
    {
        var items = new List<JsonElement>();
        var separator = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        string? cursor = null;
        do
        {
            var response = await client.GetAsync($"{path}{separator}limit=200{(cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor))}", cancellationToken);
            Xunit.Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            var page = await response.ReadJsonAsync();
            items.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        return items;
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>())!;
}
