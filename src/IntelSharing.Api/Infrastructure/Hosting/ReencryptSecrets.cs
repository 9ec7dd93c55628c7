using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Hosting;

/// <summary>
/// <c>reencrypt-secrets</c>: the middle step of rotating <c>Secrets__EncryptionKey</c>. With the new key in
/// <c>Secrets__EncryptionKey</c> and the old one in <c>Secrets__PreviousEncryptionKey</c> (as every replica runs during
/// the rotation), it re-encrypts each subscription's signing secrets (current, previous and older ones still in their
/// overlap) under the new key. Secrets already under the new key are left alone, so it can be run again after an
/// interruption; each subscription is one transaction. The console's session key ring is moved the same way. Afterwards
/// the previous key can be removed.
/// </summary>
public static class ReencryptSecrets
{
    public const string CommandName = "reencrypt-secrets";

    private sealed record Row
    {
        public Guid Id { get; init; }

        public byte[] Secret { get; init; } = [];

        public byte[]? PreviousSecret { get; init; }

        public string? OlderSecrets { get; init; }
    }

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var protector = services.GetRequiredService<SecretProtector>();
        if (!protector.Rotating)
        {
            await error.WriteLineAsync(
                $"{CommandName} needs the new key in Secrets__EncryptionKey and the key it replaces in Secrets__PreviousEncryptionKey.");
            return CommandLine.UsageExitCode;
        }

        var database = services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync(cancellationToken);
        var ids = (await connection.QueryAsync<Guid>(new CommandDefinition(
            "SELECT id FROM subscriptions ORDER BY id", cancellationToken: cancellationToken))).ToList();
        int subscriptions = 0, secrets = 0;
        var undecryptable = new List<Guid>();
        foreach (var id in ids)
        {
            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
            var transaction = write.Transaction;
            // Locked for the read-modify-write, so a rotation of this subscription's secret meanwhile is not overwritten.
            var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(
                $"""
                SELECT id AS Id, secret AS Secret, previous_secret AS PreviousSecret, older_secrets AS OlderSecrets
                FROM subscriptions WHERE id = @id {database.Dialect.ForUpdate}
                """,
                new { id }, transaction, cancellationToken: cancellationToken));
            var moved = 0;
            byte[] secret;
            byte[]? previous;
            List<RetiredSecret> older;
            try
            {
                secret = Reencrypt(protector, row.Secret, ref moved);
                previous = row.PreviousSecret is null ? null : Reencrypt(protector, row.PreviousSecret, ref moved);
                older = [.. RetiredSecrets.Parse(row.OlderSecrets).Select(r => r with { Secret = Reencrypt(protector, r.Secret, ref moved) })];
            }
            catch (CryptographicException)
            {
                // Neither key opens it: left as it is, named below, and the run fails so the rotation is not finished.
                undecryptable.Add(id);
                continue;
            }

            if (moved > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE subscriptions SET secret = @secret, previous_secret = @previous, older_secrets = @older WHERE id = @id",
                    new { id, secret, previous, older = RetiredSecrets.Serialize(older) }, transaction, cancellationToken: cancellationToken));
                subscriptions++;
                secrets += moved;
            }

            await write.CommitAsync(cancellationToken);
        }

        // The console's data-protection key ring (server_secrets) is under the same key: moved here too, so that no
        // replica has to load it before the previous key is removed.
        int consoleKeys;
        try
        {
            consoleKeys = new DatabaseKeyRepository(database, protector, TimeProvider.System).MoveToCurrentKey();
        }
        catch (CryptographicException)
        {
            await error.WriteLineAsync("The console's session key ring holds a key that neither key decrypts. Keep Secrets__PreviousEncryptionKey and check the keys.");
            return 1;
        }

        if (undecryptable.Count > 0)
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Re-encrypted {secrets} secret(s), but {undecryptable.Count} subscription(s) hold a secret that neither key decrypts: {string.Join(", ", undecryptable)}. Keep Secrets__PreviousEncryptionKey; rotate those subscriptions' secrets or check the keys."));
            return 1;
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Re-encrypted {secrets} secret(s) of {subscriptions} subscription(s) under the new key; {ids.Count - subscriptions} subscription(s) needed nothing; {consoleKeys} console session key(s) moved. Secrets__PreviousEncryptionKey can now be removed."));
        return 0;
    }

    private static byte[] Reencrypt(SecretProtector protector, byte[] stored, ref int moved)
    {
        if (protector.UnprotectIfUnderPreviousKey(stored) is not { } plain)
        {
            // Under the new key already (or under neither, which Unprotect reports when it is used).
            _ = protector.Unprotect(stored);
            return stored;
        }

        moved++;
        return protector.Protect(plain);
    }
}
