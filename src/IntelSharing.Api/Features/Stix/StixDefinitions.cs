using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// The objects every export refers to and that do not come from an alert: the official TLP 2.0 marking definitions
/// (FIRST, published in oasis-open/cti-stix-common-objects), IntelSharing's own identity and the two extensions it
/// publishes. Their JSON schemas are committed in docs/stix/ (docs/stix-taxii.md).
/// </summary>
public static class StixDefinitions
{
    public const string SpecVersion = "2.1";

    /// <summary>
    /// STIX is JSON for machines that are not browsers: no HTML-safe escaping, so Cyrillic and '+' stay as they are.
    /// Only quotes, backslashes and control characters are escaped, as canonical JSON (RFC 8785) requires for ids.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The TLP 2.0 marking extension (FIRST).</summary>
    public const string TlpExtensionId = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

    /// <summary>The OASIS incident-core property extension (oasis-open/cti-stix-common-objects).</summary>
    public const string IncidentCoreExtensionId = "extension-definition--ef765651-680c-498d-9894-99799f2fa126";

    /// <summary>IntelSharing's property extension: Europol handling code, 4x4 evaluation, basis, severity, review and expiry, data subject.</summary>
    public static readonly string HandlingExtensionId = StixIds.Shared("extension-definition", "extension:alert-handling:1.0");

    /// <summary>IntelSharing's new cyber-observable type for the identifiers STIX has no observable for.</summary>
    public static readonly string IdentifierExtensionId = StixIds.Shared("extension-definition", "extension:identifier:1.0");

    public const string IdentifierType = "intelsharing-identifier";

    public static readonly string SystemIdentityId = StixIds.Shared("identity", "system:intelsharing");

    /// <summary>When IntelSharing's own definitions were first published; they change only with a new extension version.</summary>
    private const string DefinitionsCreated = "2026-12-06T00:00:00.000Z";

    private const string TlpCreated = "2022-10-01T00:00:00.000Z";

    public static string MarkingId(Tlp tlp) => tlp switch
    {
        Tlp.Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp.Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp.Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp.AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp.Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        _ => throw new ArgumentOutOfRangeException(nameof(tlp)),
    };

    public static JsonObject Marking(Tlp tlp)
    {
        var name = Infrastructure.Json.WireNames.Of(tlp);
        return new JsonObject
        {
            ["type"] = "marking-definition",
            ["spec_version"] = SpecVersion,
            ["id"] = MarkingId(tlp),
            ["created"] = TlpCreated,
            ["name"] = $"TLP:{name.ToUpperInvariant()}",
            ["extensions"] = new JsonObject
            {
                [TlpExtensionId] = new JsonObject { ["extension_type"] = "property-extension", ["tlp_2_0"] = name },
            },
        };
    }

    public static JsonObject SystemIdentity() => new()
    {
        ["type"] = "identity",
        ["spec_version"] = SpecVersion,
        ["id"] = SystemIdentityId,
        ["created"] = DefinitionsCreated,
        ["modified"] = DefinitionsCreated,
        ["name"] = "IntelSharing",
        ["description"] = "The cross-agency intelligence-sharing service that exported these objects and defines their IntelSharing extensions.",
        ["identity_class"] = "system",
        ["object_marking_refs"] = new JsonArray(MarkingId(Tlp.Clear)),
    };

    public static JsonObject HandlingExtension() => Extension(
        HandlingExtensionId,
        "IntelSharing alert handling",
        "What travels with every object of an IntelSharing alert: the Europol handling code (H0–H3) and its conditions, the 4x4 evaluation " +
        "(source reliability A/B/C/X, information 1–4), whether it is fact or assessment (Directive 2016/680 Art. 7), severity, the review and " +
        "expiry dates of personal data and, on an individual's identity, the data-subject category (Art. 6).",
        "JSON Schema 2020-12: docs/stix/alert-handling.schema.json in the IntelSharing repository (docs/stix-taxii.md).",
        "property-extension");

    public static JsonObject IdentifierExtension() => Extension(
        IdentifierExtensionId,
        "IntelSharing identifier",
        $"A new cyber-observable type, {IdentifierType}, for the identifiers partner agencies exchange that STIX has no observable for: phone " +
        "numbers (E.164), vehicle plates, vessel IMO numbers, travel documents, crypto-currency wallets and IBANs, normalised by IntelSharing.",
        "JSON Schema 2020-12: docs/stix/identifier.schema.json in the IntelSharing repository (docs/stix-taxii.md).",
        "new-sco");

    private static JsonObject Extension(string id, string name, string description, string schema, string extensionType) => new()
    {
        ["type"] = "extension-definition",
        ["spec_version"] = SpecVersion,
        ["id"] = id,
        ["created_by_ref"] = SystemIdentityId,
        ["created"] = DefinitionsCreated,
        ["modified"] = DefinitionsCreated,
        ["name"] = name,
        ["description"] = description,
        ["schema"] = schema,
        ["version"] = "1.0",
        ["extension_types"] = new JsonArray(extensionType),
        ["object_marking_refs"] = new JsonArray(MarkingId(Tlp.Clear)),
    };

    /// <summary>STIX timestamps are UTC with a Z and at least millisecond precision (core.json: timestamp_millis).</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
