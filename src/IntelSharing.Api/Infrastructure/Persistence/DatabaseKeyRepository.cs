using System.Text;
using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Keeps ASP.NET Core's data-protection key ring (which protects the console's session cookie and antiforgery tokens)
/// in <c>server_secrets</c>, beside the other per-deployment keys: every replica reads the same ring, so a session
/// opened on one is honoured by the next, and a restart does not sign everyone out (docs/decisions/0031).
/// The interface is synchronous; the framework calls it when it loads or rotates the ring (at start, then about
/// once a day), never per request.
/// </summary>
public sealed class DatabaseKeyRepository(Database database, TimeProvider time) : IXmlRepository
{
    private const string NamePrefix = "data-protection:";

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        return connection.Query<byte[]>(
                "SELECT value FROM server_secrets WHERE name LIKE @pattern ORDER BY created_at, name",
                new { pattern = NamePrefix + "%" })
            .Select(value => XElement.Parse(Encoding.UTF8.GetString(value)))
            .ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        connection.Execute(
            "INSERT INTO server_secrets (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING",
            new
            {
                name = NamePrefix + friendlyName,
                value = Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting)),
                now = time.GetUtcNow(),
            });
    }
}
