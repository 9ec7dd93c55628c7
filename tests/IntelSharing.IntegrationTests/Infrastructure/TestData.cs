using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Audit;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>Setup and inspection helpers that go to the database directly: arranging a test and checking what was stored, not the behaviour under test.</summary>
public static class TestData
{
    /// <summary>
    /// Who may see an alert of each TLP, with or without an audience naming one agency ("named"), for that agency and
    /// for an outsider: written out from PRODUCT.md "Who may see what", not computed by the code under test. The
    /// originator sees every row.
    /// </summary>
    public static readonly IReadOnlyList<(string Tlp, bool Audience, bool NamedSees, bool OutsiderSees)> PolicyTable =
    [
        ("clear", false, true, true),
        ("green", false, true, true),
        ("amber", false, true, true),
        ("amber", true, true, false),
        ("amber+strict", true, true, false),
        ("red", true, true, false),
    ];

    /// <summary>Issues another key to an existing agency and returns a client that uses it.</summary>
    public static async Task<HttpClient> ClientWithScopesAsync(this ApiFixture app, Guid agencyId, params string[] scopes)
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        var issued = await IssueApiKey.IssueAsync(connection, TimeProvider.System, agencyId, "test " + string.Join(' ', scopes), scopes, null, CancellationToken.None);
        return app.ClientWithKey(issued!.Key);
    }

    /// <summary>The audit records that match a SQL condition, in insertion order.</summary>
    public static async Task<IReadOnlyList<AuditRecord>> AuditRecordsAsync(this ApiFixture app, string where, object? parameters = null)
    {
        await using var connection = await app.Database.OpenAsync(CancellationToken.None);
        return (await connection.QueryAsync<AuditRecord>(
            $"SELECT {AuditRecord.Columns} FROM audit_records WHERE {where} ORDER BY recorded_at, id", parameters)).AsList();
    }

    public static HttpRequestMessage WithPurpose(this HttpRequestMessage request, string purpose)
    {
        request.Headers.Add(RequestOrigin.PurposeHeader, purpose);
        return request;
    }

    public static HttpRequestMessage Get(string uri, string? purpose = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        return purpose is null ? request : request.WithPurpose(purpose);
    }

    public static string AddressOf(this HttpClient client) => client.DefaultRequestHeaders.GetValues(TestClientAddress.Header).Single();

    public static string KeyPrefixOf(string key) => key.Substring(4, 10);

    /// <summary>The secret part of <c>isk_&lt;prefix&gt;_&lt;secret&gt;</c>: base64url, so it may itself hold '_'.</summary>
    public static string KeySecretOf(string key) => key[(4 + 10 + 1)..];

    public static async Task<Guid> PublishAsync(this TestAgency agency, JsonObject alert)
    {
        var response = await agency.Client.PostAsync("/api/v1/alerts", Samples.Json(alert), TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"Publishing failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>The sample smuggling alert with the given marking and audience (agency and group ids).</summary>
    public static JsonObject SmugglingAlert(string tlp, IEnumerable<Guid>? agencies = null, IEnumerable<Guid>? groups = null)
    {
        var alert = Samples.SmugglingAlert();
        alert["tlp"] = tlp;
        if (agencies is not null || groups is not null)
        {
            var audience = new JsonObject();
            if (agencies is not null)
            {
                audience["agencies"] = new JsonArray(agencies.Select(a => (JsonNode)a.ToString()).ToArray());
            }

            if (groups is not null)
            {
                audience["groups"] = new JsonArray(groups.Select(g => (JsonNode)g.ToString()).ToArray());
            }

            alert["audience"] = audience;
        }

        return alert;
    }

    /// <summary>The sample smuggling alert naming the suspected driver; amber, with review and expiry dates after <paramref name="now"/>.</summary>
    public static JsonObject SmugglingAlertNamingPersons(DateTimeOffset now)
    {
        var alert = SmugglingAlert("amber");
        alert["persons"] = new JsonArray(new JsonObject
        {
            ["fullName"] = "Dragan Petrović",
            ["category"] = "suspect",
            ["nationality"] = "RS",
            ["aliases"] = new JsonArray("Gaga"),
        });
        alert["reviewAt"] = now.AddMonths(3).ToString("O");
        alert["expiresAt"] = now.AddYears(1).ToString("O");
        return alert;
    }

    public static void UseKey(this HttpClient client, string key) =>
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
}
