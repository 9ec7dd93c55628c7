using System.Security.Cryptography;
using System.Text;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// Deterministic STIX identifiers (UUIDv5, RFC 9562 §5.5). The same alert, object role and value always give the same
/// id, so a partner that imports a re-export, or a later version, updates its copy instead of adding a duplicate.
/// </summary>
public static class StixIds
{
    /// <summary>IntelSharing's own name space for the ids of the objects it derives from alerts.</summary>
    private static readonly Guid Namespace = new("5c0f3d2e-8a41-4b6f-9d7e-2b1a6c3f4e50");

    /// <summary>The name space STIX 2.1 §2.9 fixes for deterministic cyber-observable ids.</summary>
    private static readonly Guid ObservableNamespace = new("00abedb4-aa42-466c-9c01-fed23315a9b7");

    /// <summary>An object derived from one alert: its type, the alert and the object's role in it (e.g. <c>indicator:ipv4:185.220.101.4</c>).</summary>
    public static string ForAlert(string type, Guid alertId, string role) => $"{type}--{Create(Namespace, $"alert:{alertId:D}:{role}")}";

    /// <summary>An object shared by every alert, such as an agency's identity or IntelSharing's extension definitions.</summary>
    public static string Shared(string type, string name) => $"{type}--{Create(Namespace, name)}";

    /// <summary>A cyber-observable id from its id-contributing properties, serialised as canonical JSON (RFC 8785).</summary>
    public static string ForObservable(string type, string canonicalJson) => $"{type}--{Create(ObservableNamespace, canonicalJson)}";

    public static Guid Create(Guid nameSpace, string name)
    {
        Span<byte> input = stackalloc byte[16];
        nameSpace.TryWriteBytes(input, bigEndian: true, out _);
        var bytes = new byte[16 + Encoding.UTF8.GetByteCount(name)];
        input.CopyTo(bytes);
        Encoding.UTF8.GetBytes(name, bytes.AsSpan(16));
        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // RFC 9562 defines version 5 with SHA-1; it names objects, it protects nothing.
        SHA1.HashData(bytes, hash);
#pragma warning restore CA5350
        var uuid = hash[..16];
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x50);
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80);
        return new Guid(uuid, bigEndian: true);
    }
}
