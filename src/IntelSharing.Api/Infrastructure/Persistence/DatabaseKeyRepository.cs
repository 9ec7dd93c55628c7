using System.Text;
using System.Xml.Linq;
using Dapper;
using IntelSharing.Api.Infrastructure.Delivery;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Keeps ASP.NET Core's data-protection key ring (which protects the console's session cookie and antiforgery tokens)
/// in <c>server_secrets</c>, beside the other per-deployment keys: every replica reads the same ring, so a session
/// opened on one is honoured by the next, and a restart does not sign everyone out (docs/decisions/0031).
/// Each key's XML is stored encrypted by <see cref="SecretProtector"/> (AES-256-GCM under <c>Secrets__EncryptionKey</c>,
/// like partner signing secrets): the ring holds the master keys of the session cookies, so a database read alone must
/// not be enough to forge a session (ADR 0033). Rows written before that, as plain XML, are still read, and are
/// re-encrypted in place the first time they are; rows under the previous key of a rotation are moved to the new one.
/// The interface is synchronous; the framework calls it when it loads or rotates the ring (at start, then about
/// once a day), never per request.
/// </summary>
public sealed class DatabaseKeyRepository(Database database, SecretProtector protector, TimeProvider time) : IXmlRepository
{
    public const string NamePrefix = "data-protection:";

    private sealed record Row(string Name, byte[] Value);

    public IReadOnlyCollection<XElement> GetAllElements() => Load(out _);

    /// <summary>
    /// For <c>reencrypt-secrets</c>: moves every key of the ring under the current key (and encrypts plain ones), so that
    /// the previous key can be removed even if no replica loaded the ring meanwhile. Returns how many rows it rewrote;
    /// throws <see cref="System.Security.Cryptography.CryptographicException"/> when a row opens with neither key.
    /// </summary>
    public int MoveToCurrentKey()
    {
        Load(out var moved);
        return moved;
    }

    private List<XElement> Load(out int moved)
    {
        moved = 0;
        using var connection = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        var rows = connection.Query<Row>(
                "SELECT name AS Name, value AS Value FROM server_secrets WHERE name LIKE @pattern ORDER BY created_at, name",
                new { pattern = NamePrefix + "%" })
            .ToList();
        var elements = new List<XElement>(rows.Count);
        foreach (var row in rows)
        {
            string xml;
            if (IsPlainXml(row.Value))
            {
                xml = Encoding.UTF8.GetString(row.Value);
                Reencrypt(connection, row, xml);
                moved++;
            }
            else if (protector.UnprotectIfUnderPreviousKey(row.Value) is { } underPrevious)
            {
                xml = underPrevious;
                Reencrypt(connection, row, xml);
                moved++;
            }
            else
            {
                xml = protector.Unprotect(row.Value);
            }

            elements.Add(XElement.Parse(xml));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        Write(connection,
            "INSERT INTO server_secrets (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING",
            new
            {
                name = NamePrefix + friendlyName,
                value = protector.Protect(element.ToString(SaveOptions.DisableFormatting)),
                now = time.GetUtcNow(),
            });
    }

    /// <summary>
    /// One statement in a write transaction of its own rather than auto-commit: on SQLite that takes this process's
    /// write turn instead of blocking in SQLite's busy handler beside a held write (ADR 44).
    /// </summary>
    private static void Write(System.Data.Common.DbConnection connection, string sql, object parameters)
    {
        using var write = Database.BeginWriteAsync(connection, CancellationToken.None).GetAwaiter().GetResult();
        connection.Execute(sql, parameters, write.Transaction);
        write.CommitAsync().GetAwaiter().GetResult();
    }

    /// <summary>
    /// A row as the first console release wrote it: the XML itself. Encrypted rows start with the protector's version
    /// byte (1), never with '&lt;' or a byte-order mark.
    /// </summary>
    public static bool IsPlainXml(byte[] value) => value.Length > 0 && (value[0] == (byte)'<' || value[0] == 0xEF);

    /// <summary>Only when the row still holds what was read: two replicas starting together write it once, the same key either way.</summary>
    private void Reencrypt(System.Data.Common.DbConnection connection, Row row, string xml) =>
        Write(connection,
            "UPDATE server_secrets SET value = @value WHERE name = @name AND value = @old",
            new { name = row.Name, value = protector.Protect(xml), old = row.Value });
}
