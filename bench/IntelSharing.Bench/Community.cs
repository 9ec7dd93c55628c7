using System.Net.Http.Headers;
using System.Text.Json;

namespace IntelSharing.Bench;

/// <summary>An agency the benchmark registered, with its key.</summary>
public sealed record Member(Guid Id, string Name, string Key)
{
    /// <summary>The key's prefix (the part between <c>isk_</c> and the second underscore), which the API looks keys up by.</summary>
    public string Prefix => Key.Split('_')[1];
}

/// <summary>
/// Sets up the agencies of a benchmark through the API itself, as an operator would: the Border Police and the
/// national CERT submit; partner agencies (Europol, Frontex, Hungarian police…) subscribe to loopback receivers.
/// </summary>
public sealed class Community(Uri api, string operatorKey)
{
    private static readonly (string Name, string Country, string Kind)[] Partners =
    [
        ("Europol — European Migrant Smuggling Centre", "NL", "eu_agency"),
        ("Frontex — Situation Centre", "PL", "eu_agency"),
        ("Hungarian National Police — Border Policing", "HU", "police"),
        ("Croatian Border Police Directorate", "HR", "border_guard"),
        ("North Macedonia Ministry of Interior", "MK", "ministry"),
        ("Bulgarian Border Police", "BG", "border_guard"),
    ];

    public async Task<Member> RegisterAsync(string name, string country, string kind, params string[] scopes)
    {
        using var client = Client(operatorKey);
        var agency = await ReadAsync(await client.PostAsJsonAsync("/api/v1/agencies", new { name, country, kind }));
        var id = agency.GetProperty("id").GetGuid();
        var (_, key) = await IssueKeyAsync(id, "Benchmark", scopes);
        return new Member(id, name, key);
    }

    /// <summary>Issues another key to agency <paramref name="agencyId"/>; returns its id (to revoke it by) and the secret.</summary>
    public async Task<(Guid Id, string Key)> IssueKeyAsync(Guid agencyId, string name, params string[] scopes)
    {
        using var client = Client(operatorKey);
        var key = await ReadAsync(await client.PostAsJsonAsync($"/api/v1/agencies/{agencyId}/keys", new { name, scopes }));
        return (key.GetProperty("id").GetGuid(), key.GetProperty("key").GetString()!);
    }

    public Task<Member> BorderPoliceAsync() =>
        RegisterAsync("Ministry of Interior of the Republic of Serbia — Border Police Directorate", "RS", "border_guard", "alerts:write", "alerts:read");

    public Task<Member> CertAsync() => RegisterAsync("National CERT of the Republic of Serbia", "RS", "cert", "alerts:write", "alerts:read");

    /// <summary>Partner <paramref name="index"/> (they repeat with a number once the list is used up).</summary>
    public Task<Member> PartnerAsync(int index)
    {
        var (name, country, kind) = Partners[index % Partners.Length];
        return RegisterAsync(index < Partners.Length ? name : $"{name} {index / Partners.Length + 1}", country, kind,
            "alerts:read", "subscriptions:manage");
    }

    /// <summary>A subscription to every category, severity and country: every alert the partner may see matches.</summary>
    public async Task<Guid> SubscribeAsync(Member partner, string url, string description, params string[] categories)
    {
        using var client = Client(partner.Key);
        var subscription = await ReadAsync(await client.PostAsJsonAsync("/api/v1/subscriptions", new { url, description, categories }));
        return subscription.GetProperty("subscription").GetProperty("id").GetGuid();
    }

    /// <summary>Pauses (<c>pause</c>) or resumes (<c>resume</c>) one of the partner's subscriptions.</summary>
    public async Task SetSubscriptionAsync(Member partner, Guid subscription, string change)
    {
        using var client = Client(partner.Key);
        await ReadAsync(await client.PostAsync($"/api/v1/subscriptions/{subscription}/{change}", content: null));
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
