using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Delivery;

/// <summary>Bound from the <c>Secrets</c> section.</summary>
public sealed class SecretsOptions
{
    public const string Section = "Secrets";

    /// <summary>
    /// Base64 of 32 random bytes (<c>openssl rand -base64 32</c>): the AES-256-GCM key that encrypts signing
    /// secrets at rest. Required in Production. Elsewhere, when absent, a key is generated into
    /// <see cref="DevelopmentKeyFile"/> so that <c>dotnet run</c> works on a fresh machine.
    /// </summary>
    public string? EncryptionKey { get; set; }

    public string DevelopmentKeyFile { get; set; } = "intelsharing-dev-secrets.key";

    /// <summary>
    /// During a key rotation only: the key being replaced. Secrets it encrypted still decrypt, new ones are encrypted
    /// with <see cref="EncryptionKey"/>, and <c>reencrypt-secrets</c> moves the stored ones over; then unset it.
    /// </summary>
    public string? PreviousEncryptionKey { get; set; }
}

/// <summary>
/// Encrypts webhook signing secrets at rest with AES-256-GCM. Layout: version (1) ‖ nonce (12) ‖ tag (16) ‖ ciphertext.
/// The database alone never reveals a secret.
/// </summary>
public sealed class SecretProtector
{
    private const byte Version = 1;
    private readonly byte[] _key;
    private readonly byte[]? _previousKey;

    public SecretProtector(IOptions<SecretsOptions> options, IHostEnvironment environment, ILogger<SecretProtector> logger)
    {
        _previousKey = string.IsNullOrWhiteSpace(options.Value.PreviousEncryptionKey) ? null : Parse(options.Value.PreviousEncryptionKey);
        var configured = options.Value.EncryptionKey;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _key = Parse(configured);
            return;
        }

        if (environment.IsProduction())
        {
            throw new InvalidOperationException(
                "Secrets__EncryptionKey is not set. It encrypts partner signing secrets at rest; generate one with 'openssl rand -base64 32'.");
        }

        var file = Path.GetFullPath(options.Value.DevelopmentKeyFile);
        if (!File.Exists(file) && CreateDevelopmentKey(file))
        {
            logger.LogWarning("Secrets__EncryptionKey is not set; generated a development key in {File}. Production requires the setting.", file);
        }

        _key = Parse(File.ReadAllText(file).Trim());
    }

    /// <summary>
    /// Writes a new key beside the file and moves it into place, which fails if the file appeared meanwhile: two processes
    /// starting together (tests, replicas on one laptop) then share the first key, and neither reads a half-written file.
    /// </summary>
    private static bool CreateDevelopmentKey(string file)
    {
        var written = $"{file}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(written, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        try
        {
            File.Move(written, file, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(file))
        {
            File.Delete(written);
            return false;
        }
    }

    public static byte[] Parse(string base64)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("Secrets__EncryptionKey must be base64 of 32 bytes ('openssl rand -base64 32').");
        }

        return key.Length == 32 ? key : throw new InvalidOperationException("Secrets__EncryptionKey must decode to exactly 32 bytes.");
    }

    /// <summary>
    /// A key for another purpose (e.g. signing audit chain heads), derived from this deployment's secret key with
    /// HKDF-SHA256, so that it lives outside the database like the key itself without a second setting to manage.
    /// </summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, 32, salt: [], info: Encoding.UTF8.GetBytes(purpose));

    public byte[] Protect(string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var output = new byte[1 + 12 + 16 + plain.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, 16);
        aes.Encrypt(nonce, plain, output.AsSpan(29), output.AsSpan(13, 16));
        return output;
    }

    /// <summary>Whether a previous key is configured: a rotation is under way.</summary>
    public bool Rotating => _previousKey is not null;

    public string Unprotect(byte[] protectedSecret) =>
        TryUnprotect(protectedSecret, _key) ?? (_previousKey is null ? null : TryUnprotect(protectedSecret, _previousKey))
        ?? throw new CryptographicException("The secret does not decrypt with the configured key(s).");

    /// <summary>The secret, when <paramref name="protectedSecret"/> is under the previous key and not the current one; else null.</summary>
    public string? UnprotectIfUnderPreviousKey(byte[] protectedSecret) =>
        _previousKey is null || TryUnprotect(protectedSecret, _key) is not null ? null : TryUnprotect(protectedSecret, _previousKey);

    private static string? TryUnprotect(byte[] protectedSecret, byte[] key)
    {
        if (protectedSecret.Length < 29 || protectedSecret[0] != Version)
        {
            throw new CryptographicException("Unknown secret format.");
        }

        var plain = new byte[protectedSecret.Length - 29];
        using var aes = new AesGcm(key, 16);
        try
        {
            aes.Decrypt(protectedSecret.AsSpan(1, 12), protectedSecret.AsSpan(29), protectedSecret.AsSpan(13, 16), plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plain);
    }
}

/// <summary>Checked at start with the other settings, so a missing or malformed key is one clear line, not a stack trace.</summary>
public sealed class SecretsOptionsValidator(IHostEnvironment environment) : IValidateOptions<SecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.EncryptionKey))
        {
            return environment.IsProduction()
                ? ValidateOptionsResult.Fail("Secrets__EncryptionKey is not set; it encrypts partner signing secrets at rest. Generate one with 'openssl rand -base64 32'.")
                : ValidateOptionsResult.Success;
        }

        try
        {
            SecretProtector.Parse(options.EncryptionKey);
            if (!string.IsNullOrWhiteSpace(options.PreviousEncryptionKey))
            {
                try
                {
                    SecretProtector.Parse(options.PreviousEncryptionKey);
                }
                catch (InvalidOperationException ex)
                {
                    return ValidateOptionsResult.Fail(ex.Message.Replace("Secrets__EncryptionKey", "Secrets__PreviousEncryptionKey", StringComparison.Ordinal));
                }
            }

            return ValidateOptionsResult.Success;
        }
        catch (InvalidOperationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
