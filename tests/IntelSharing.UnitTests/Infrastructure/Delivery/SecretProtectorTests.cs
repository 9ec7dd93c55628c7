using System.Security.Cryptography;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Delivery;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IntelSharing.UnitTests.Infrastructure.Delivery;

public sealed class SecretProtectorTests
{
    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "IntelSharing.Api";

        public string ContentRootPath { get; set; } = Path.GetTempPath();

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }

    private static SecretProtector Protector(string? key, string environment = "Production") =>
        new(Options.Create(new SecretsOptions { EncryptionKey = key }), new Environment(environment), NullLogger<SecretProtector>.Instance);

    [Fact]
    public void A_secret_round_trips_and_its_ciphertext_reveals_nothing_of_it()
    {
        var protector = Protector(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var secret = WebhookSigner.GenerateSecret();

        var stored = protector.Protect(secret);

        Assert.Equal(secret, protector.Unprotect(stored));
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.NotEqual(stored, protector.Protect(secret));
    }

    [Fact]
    public void During_a_rotation_secrets_under_the_previous_key_still_open_and_new_ones_are_written_under_the_new_key()
    {
        var oldKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var newKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var secret = WebhookSigner.GenerateSecret();
        var underOld = Protector(oldKey).Protect(secret);
        var rotating = new SecretProtector(
            Options.Create(new SecretsOptions { EncryptionKey = newKey, PreviousEncryptionKey = oldKey }), new Environment("Production"), NullLogger<SecretProtector>.Instance);

        var underNew = rotating.Protect(secret);

        Assert.Equal(secret, rotating.Unprotect(underOld));
        Assert.Equal(secret, rotating.UnprotectIfUnderPreviousKey(underOld));
        Assert.Null(rotating.UnprotectIfUnderPreviousKey(underNew));
        Assert.Equal(secret, Protector(newKey).Unprotect(underNew));
        // Once the previous key is removed, what it encrypted no longer opens.
        Assert.ThrowsAny<CryptographicException>(() => Protector(newKey).Unprotect(underOld));
    }

    [Fact]
    public void A_tampered_ciphertext_is_rejected()
    {
        var protector = Protector(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var stored = protector.Protect("whsec_abc");
        stored[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(stored));
    }

    [Fact]
    public void Production_refuses_to_start_without_an_encryption_key_and_says_how_to_make_one()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Protector(null));

        Assert.Contains("Secrets__EncryptionKey", error.Message);
        Assert.Contains("openssl rand -base64 32", error.Message);
    }

    [Fact]
    public void A_key_that_is_not_32_bytes_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => Protector(Convert.ToBase64String(new byte[16])));
}
