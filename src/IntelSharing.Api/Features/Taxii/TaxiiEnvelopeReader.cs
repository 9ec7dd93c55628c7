using System.Globalization;
using System.Text;
using System.Text.Json;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Infrastructure.Json;

namespace IntelSharing.Api.Features.Taxii;

/// <summary>
/// Reads a TAXII envelope of STIX 2.1 objects as one cyber-incident alert (docs/stix-taxii.md, "Adding objects";
/// ADR 52). What an alert is made of is taken — indicators with STIX patterns, one incident, vulnerabilities (CVEs),
/// ATT&amp;CK attack patterns, countries — and every object gets its own outcome, as the TAXII status lists them.
/// Nothing is guessed that could widen who sees the alert: an object without a TLP marking is refused, the alert takes
/// the strictest marking of what it takes, and what STIX does not carry in IntelSharing's vocabulary takes the
/// cautious value (handling H2, evaluation X/4, an assessment), unless IntelSharing's own property extension says it.
/// </summary>
public static class TaxiiEnvelopeReader
{
    /// <summary>At most this many objects in one envelope: each is read once, so the work of a request is bounded.</summary>
    public const int MaxObjects = 1000;

    public sealed record Outcome(string Id, string Version, string Message);

    public sealed record Reading(AlertInput? Alert, IReadOnlyList<Outcome> Successes, IReadOnlyList<Outcome> Failures);

    private static readonly Dictionary<string, Tlp> Markings = new(StringComparer.Ordinal)
    {
        // TLP 2.0 (FIRST), as IntelSharing exports them.
        [StixDefinitions.MarkingId(Tlp.Clear)] = Tlp.Clear,
        [StixDefinitions.MarkingId(Tlp.Green)] = Tlp.Green,
        [StixDefinitions.MarkingId(Tlp.Amber)] = Tlp.Amber,
        [StixDefinitions.MarkingId(Tlp.AmberStrict)] = Tlp.AmberStrict,
        [StixDefinitions.MarkingId(Tlp.Red)] = Tlp.Red,
        // TLP 1.0, the STIX 2.1 specification's own definitions (§7.2.1.4), which many platforms still send.
        ["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"] = Tlp.Clear,
        ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"] = Tlp.Green,
        ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"] = Tlp.Amber,
        ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"] = Tlp.Red,
    };

    private static readonly Dictionary<string, IndicatorType> ObservablePaths = new(StringComparer.Ordinal)
    {
        ["ipv4-addr:value"] = IndicatorType.Ipv4,
        ["ipv6-addr:value"] = IndicatorType.Ipv6,
        ["domain-name:value"] = IndicatorType.Domain,
        ["url:value"] = IndicatorType.Url,
        ["email-addr:value"] = IndicatorType.Email,
        ["file:hashes.SHA-256"] = IndicatorType.Sha256,
        ["file:hashes.SHA256"] = IndicatorType.Sha256,
        ["file:hashes.MD5"] = IndicatorType.Md5,
    };

    private const string SupportedPatterns =
        "equality comparisons ([path = 'value'], joined by OR) on ipv4-addr:value, ipv6-addr:value, domain-name:value, url:value, " +
        "email-addr:value, file:hashes.'SHA-256' or file:hashes.MD5";

    /// <summary>Reads the envelope's objects (an array); <paramref name="originatorCountry"/> is the country when no location names one.</summary>
    public static Reading Read(JsonElement objects, string originatorCountry)
    {
        var successes = new List<Outcome>();
        var failures = new List<Outcome>();
        var indicators = new List<IndicatorInput>();
        var countries = new List<string>();
        var cves = new List<string>();
        var techniques = new List<string>();
        var indicatorNames = new List<string>();
        JsonElement? incident = null;
        (string? Name, string? Description, Tlp Marking)? context = null;
        Tlp? tlp = null;
        JsonElement? handling = null;

        foreach (var stix in objects.EnumerateArray())
        {
            var id = stix.ValueKind == JsonValueKind.Object && stix.TryGetProperty("id", out var idValue) && idValue.ValueKind == JsonValueKind.String ? idValue.GetString()! : string.Empty;
            var version = VersionOf(stix);
            void Fail(string message) => failures.Add(new Outcome(id, version, message));
            void Succeed(string message) => successes.Add(new Outcome(id, version, message));

            if (stix.ValueKind != JsonValueKind.Object || Text(stix, "type") is not { } type || StixObjectIndex.KeyOf(id) is null
                || !id.StartsWith(type + "--", StringComparison.Ordinal))
            {
                Fail("Not a STIX object: every object needs a type and an id of the form type--UUID.");
                continue;
            }

            if (Text(stix, "spec_version") is { } spec && spec != StixDefinitions.SpecVersion)
            {
                Fail($"spec_version {spec} is not taken; this collection takes STIX {StixDefinitions.SpecVersion}.");
                continue;
            }

            switch (type)
            {
                case "marking-definition":
                    Succeed("Read as context: markings are read from each object's object_marking_refs.");
                    continue;
                case "identity":
                case "relationship":
                case "extension-definition":
                    Succeed($"Read as context: the alert's originator is your agency, and a {type} is not stored on its own.");
                    continue;
                case "report":
                case "grouping":
                    // Its words may become the alert's: they are shared no wider than its own marking says.
                    if (MarkingOf(stix) is not { } reportMarking)
                    {
                        Fail("No TLP marking: a report or grouping without one cannot title the alert; object_marking_refs must name a TLP 2.0 (or TLP 1.0) marking definition.");
                        continue;
                    }

                    context ??= (Text(stix, "name"), Text(stix, "description"), reportMarking);
                    Succeed("Read as context: its name and description title the alert when the envelope has no incident (and its marking then counts).");
                    continue;
            }

            if (type is not ("indicator" or "incident" or "vulnerability" or "attack-pattern" or "location"))
            {
                Fail($"Objects of type {type} are not taken by this collection; it takes indicator, incident, vulnerability, attack-pattern and location objects.");
                continue;
            }

            if (MarkingOf(stix) is not { } marking)
            {
                Fail("No TLP marking: object_marking_refs must name a TLP 2.0 (or TLP 1.0) marking definition, which decides who may see the alert.");
                continue;
            }

            if (stix.TryGetProperty("revoked", out var revoked) && revoked.ValueKind == JsonValueKind.True)
            {
                Fail("A revoked object is not taken.");
                continue;
            }

            if (HandlingOf(stix) is { } extension && !ValidHandling(extension, out var handlingError))
            {
                Fail(handlingError);
                continue;
            }

            switch (type)
            {
                case "indicator":
                    var (read, error) = ReadIndicator(stix);
                    if (error is not null)
                    {
                        Fail(error);
                        continue;
                    }

                    if (indicators.Count + read!.Count > AlertInputValidator.MaxIndicators)
                    {
                        Fail($"An alert carries at most {AlertInputValidator.MaxIndicators} indicators; this object would take it past them.");
                        continue;
                    }

                    indicators.AddRange(read);
                    indicatorNames.Add(Text(stix, "name") ?? string.Join(", ", read.Select(i => i.Value)));
                    Succeed(read.Count == 1 ? "Taken as an indicator of the alert." : $"Taken as {read.Count.ToString(CultureInfo.InvariantCulture)} indicators of the alert.");
                    break;
                case "incident":
                    if (incident is not null)
                    {
                        Fail("One incident per request: each incident is an alert of its own; send it in its own request.");
                        continue;
                    }

                    incident = stix;
                    Succeed("Taken as the alert's title, summary and incident type.");
                    break;
                case "vulnerability":
                    if (ExternalId(stix, "cve") is not { } cve || !AlertInputValidator.IsCve(cve))
                    {
                        Fail("A vulnerability is taken by its CVE id: an external reference with source_name cve and an external_id such as CVE-2024-3400.");
                        continue;
                    }

                    if (!Room(cves, cve, AlertInputValidator.MaxIds, "CVE ids"))
                    {
                        continue;
                    }

                    cves.Add(cve);
                    Succeed("Taken as a CVE of the alert.");
                    break;
                case "attack-pattern":
                    if (ExternalId(stix, "mitre-attack") is not { } technique || !AlertInputValidator.IsAttackTechnique(technique))
                    {
                        Fail("An attack pattern is taken by its ATT&CK id: an external reference with source_name mitre-attack and an external_id such as T1566 or T1566.002.");
                        continue;
                    }

                    if (!Room(techniques, technique, AlertInputValidator.MaxIds, "ATT&CK techniques"))
                    {
                        continue;
                    }

                    techniques.Add(technique);
                    Succeed("Taken as an ATT&CK technique of the alert.");
                    break;
                case "location":
                    var country = Text(stix, "country")?.ToUpperInvariant();
                    if (country is null || !Countries.IsValid(country))
                    {
                        Fail("A location is taken by its country: an ISO 3166-1 alpha-2 code such as RS.");
                        continue;
                    }

                    if (!Room(countries, country, AlertInputValidator.MaxCountries, "countries"))
                    {
                        continue;
                    }

                    countries.Add(country);
                    Succeed("Taken as a country the alert concerns.");
                    break;
            }

            bool Room(List<string> taken, string value, int most, string what)
            {
                if (taken.Contains(value, StringComparer.Ordinal) || taken.Count < most)
                {
                    return true;
                }

                Fail($"An alert carries at most {most.ToString(CultureInfo.InvariantCulture)} {what}; this object would take it past them.");
                return false;
            }

            tlp = tlp is { } strictest && strictest >= marking ? strictest : marking;
            handling ??= HandlingOf(stix);
        }

        if (indicators.Count == 0 && incident is null)
        {
            return new Reading(null, successes, failures);
        }

        if (incident is null && context is { } titling && (titling.Name is not null || titling.Description is not null) && titling.Marking > tlp)
        {
            tlp = titling.Marking;
        }

        return new Reading(Build(), successes, failures);

        AlertInput Build()
        {
            var extension = HandlingOf(incident) ?? handling;
            var title = incident is { } i && Text(i, "name") is { } name ? name
                : context?.Name ?? (indicators.Count == 0 ? "An incident shared over TAXII"
                    : $"{indicators.Count.ToString(CultureInfo.InvariantCulture)} {(indicators.Count == 1 ? "indicator" : "indicators")} shared over TAXII");
            var summary = incident is { } j && Text(j, "description") is { } description ? description
                : context?.Description ?? Summary(indicatorNames);
            return new AlertInput
            {
                Category = AlertCategory.CyberIncident,
                Title = title,
                Summary = summary,
                Severity = Parse<Severity>(extension, "severity") ?? SeverityOf(incident) ?? Severity.Medium,
                Tlp = tlp,
                Handling = new Handling { Code = Parse<HandlingCode>(extension, "handling_code") ?? HandlingCode.H2, Conditions = Text(extension, "handling_conditions") },
                Evaluation = new Evaluation
                {
                    Source = Parse<SourceReliability>(extension, "source_reliability") ?? SourceReliability.X,
                    Information = Parse<InformationAssessment>(extension, "information_assessment") ?? InformationAssessment.NotCorroborated,
                },
                Basis = Parse<Basis>(extension, "basis") ?? Basis.Assessment,
                Countries = countries.Count > 0 ? [.. countries.Distinct(StringComparer.Ordinal)] : [originatorCountry],
                Cyber = new CyberDetails
                {
                    IncidentType = IncidentTypeOf(incident) ?? CyberIncidentType.Other,
                    Sector = Sector.Other,
                    AttackTechniques = techniques.Count > 0 ? [.. techniques.Distinct(StringComparer.Ordinal)] : null,
                    Cves = cves.Count > 0 ? [.. cves.Distinct(StringComparer.Ordinal)] : null,
                },
                Indicators = indicators.Count > 0 ? indicators : null,
                ReviewAt = Timestamp(extension, "review_at"),
                ExpiresAt = Timestamp(extension, "expires_at"),
            };
        }
    }

    /// <summary>The values of an indicator's STIX pattern, or why it is not taken.</summary>
    internal static (IReadOnlyList<IndicatorInput>? Indicators, string? Error) ReadIndicator(JsonElement indicator)
    {
        if (Text(indicator, "pattern_type") is not "stix")
        {
            return (null, "Only indicators with pattern_type stix are taken.");
        }

        if (Text(indicator, "pattern") is not { } pattern || ParsePattern(pattern) is not { } comparisons)
        {
            return (null, $"The pattern is not taken: this collection takes {SupportedPatterns}.");
        }

        var description = Text(indicator, "description") ?? Text(indicator, "name");
        var read = new List<IndicatorInput>(comparisons.Count);
        foreach (var (path, value) in comparisons)
        {
            if (!ObservablePaths.TryGetValue(path, out var type))
            {
                return (null, $"{path} has no IntelSharing indicator type: this collection takes {SupportedPatterns}.");
            }

            var input = new IndicatorInput { Type = type, Value = value, Description = description };
            var checkedInput = AlertInputValidator.ValidateIndicator(input);
            if (!checkedInput.IsValid)
            {
                return (null, $"{path} '{value}': {checkedInput.Errors[0].ErrorMessage}");
            }

            read.Add(input);
        }

        return (read, null);
    }

    /// <summary>
    /// The comparisons of a pattern made only of <c>[path = 'literal']</c> observation expressions and comparisons joined
    /// by <c>OR</c> (STIX Patterning §9); null for anything else — AND, other operators, qualifiers — which an alert's
    /// indicators cannot say. Hash keys lose their quotes (<c>file:hashes.'SHA-256'</c> is <c>file:hashes.SHA-256</c>).
    /// </summary>
    internal static List<(string Path, string Value)>? ParsePattern(string pattern)
    {
        var comparisons = new List<(string, string)>();
        var position = 0;
        var depth = 0;
        var expectOperand = true;
        while (true)
        {
            SkipSpaces(pattern, ref position);
            if (position == pattern.Length)
            {
                return depth == 0 && !expectOperand && comparisons.Count > 0 ? comparisons : null;
            }

            if (expectOperand)
            {
                if (pattern[position] == '[' && depth == 0)
                {
                    depth = 1;
                    position++;
                    continue;
                }

                if (depth != 1 || ReadComparison(pattern, ref position) is not { } comparison)
                {
                    return null;
                }

                comparisons.Add(comparison);
                expectOperand = false;
                continue;
            }

            if (pattern[position] == ']' && depth == 1)
            {
                depth = 0;
                position++;
                continue;
            }

            if (string.CompareOrdinal(pattern, position, "OR", 0, 2) == 0 && position + 2 <= pattern.Length
                && (position + 2 == pattern.Length || pattern[position + 2] is ' ' or '['))
            {
                position += 2;
                expectOperand = true;
                continue;
            }

            return null;
        }
    }

    private static (string Path, string Value)? ReadComparison(string pattern, ref int position)
    {
        var path = new StringBuilder();
        while (position < pattern.Length && pattern[position] is not (' ' or '=' or ']'))
        {
            var c = pattern[position];
            if (c == '\'')
            {
                // A quoted hash key (file:hashes.'SHA-256'): its name without the quotes.
                var end = pattern.IndexOf('\'', position + 1);
                if (end < 0)
                {
                    return null;
                }

                path.Append(pattern, position + 1, end - position - 1);
                position = end + 1;
                continue;
            }

            path.Append(c);
            position++;
        }

        SkipSpaces(pattern, ref position);
        if (position >= pattern.Length || pattern[position] != '=')
        {
            return null;
        }

        position++;
        SkipSpaces(pattern, ref position);
        if (position >= pattern.Length || pattern[position] != '\'')
        {
            return null;
        }

        position++;
        var value = new StringBuilder();
        while (position < pattern.Length)
        {
            var c = pattern[position++];
            if (c == '\\' && position < pattern.Length && pattern[position] is '\'' or '\\')
            {
                value.Append(pattern[position++]);
            }
            else if (c == '\'')
            {
                return path.Length == 0 ? null : (path.ToString(), value.ToString());
            }
            else
            {
                value.Append(c);
            }
        }

        return null;
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    /// <summary>The strictest TLP among the object's markings, or null when it names none.</summary>
    private static Tlp? MarkingOf(JsonElement stix)
    {
        if (!stix.TryGetProperty("object_marking_refs", out var refs) || refs.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        Tlp? strictest = null;
        foreach (var reference in refs.EnumerateArray())
        {
            if (reference.ValueKind == JsonValueKind.String && Markings.TryGetValue(reference.GetString()!, out var tlp) && (strictest is null || tlp > strictest))
            {
                strictest = tlp;
            }
        }

        return strictest;
    }

    /// <summary>IntelSharing's handling extension on an object, as its export writes it.</summary>
    private static JsonElement? HandlingOf(JsonElement? stix) =>
        stix is { } s && s.TryGetProperty("extensions", out var extensions) && extensions.ValueKind == JsonValueKind.Object
            && extensions.TryGetProperty(StixDefinitions.HandlingExtensionId, out var extension) && extension.ValueKind == JsonValueKind.Object
            ? extension
            : null;

    private static bool ValidHandling(JsonElement extension, out string error)
    {
        error = string.Empty;
        foreach (var (name, valid) in new (string, Func<string, bool>)[]
        {
            ("handling_code", v => WireNames.TryParse<HandlingCode>(v, out _)),
            ("source_reliability", v => WireNames.TryParse<SourceReliability>(v, out _)),
            ("information_assessment", v => WireNames.TryParse<InformationAssessment>(v, out _)),
            ("basis", v => WireNames.TryParse<Basis>(v, out _)),
            ("severity", v => WireNames.TryParse<Severity>(v, out _)),
            ("review_at", v => DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)),
            ("expires_at", v => DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)),
        })
        {
            if (extension.TryGetProperty(name, out var value) && (value.ValueKind != JsonValueKind.String || !valid(value.GetString()!)))
            {
                error = $"The IntelSharing handling extension's {name} is not one of its values (see its extension definition's schema).";
                return false;
            }
        }

        return true;
    }

    private static T? Parse<T>(JsonElement? extension, string name)
        where T : struct, Enum =>
        Text(extension, name) is { } text && WireNames.TryParse<T>(text, out var value) ? value : null;

    private static DateTimeOffset? Timestamp(JsonElement? extension, string name) =>
        Text(extension, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    /// <summary>The incident-core extension's criticality (0–100) as a severity, as the export writes it (severity × 25).</summary>
    private static Severity? SeverityOf(JsonElement? incident)
    {
        if (IncidentCore(incident) is { } core && core.TryGetProperty("criticality", out var criticality) && criticality.TryGetInt32(out var value) && value is >= 0 and <= 100)
        {
            return value switch { <= 25 => Severity.Low, <= 50 => Severity.Medium, <= 75 => Severity.High, _ => Severity.Critical };
        }

        return null;
    }

    private static CyberIncidentType? IncidentTypeOf(JsonElement? incident)
    {
        if (IncidentCore(incident) is { } core && core.TryGetProperty("incident_types", out var types) && types.ValueKind == JsonValueKind.Array)
        {
            foreach (var type in types.EnumerateArray())
            {
                if (type.ValueKind == JsonValueKind.String && WireNames.TryParse<CyberIncidentType>(type.GetString(), out var known))
                {
                    return known;
                }
            }
        }

        return null;
    }

    private static JsonElement? IncidentCore(JsonElement? incident) =>
        incident is { } i && i.TryGetProperty("extensions", out var extensions) && extensions.ValueKind == JsonValueKind.Object
            && extensions.TryGetProperty(StixDefinitions.IncidentCoreExtensionId, out var core) && core.ValueKind == JsonValueKind.Object
            ? core
            : null;

    private static string? ExternalId(JsonElement stix, string source)
    {
        if (!stix.TryGetProperty("external_references", out var references) || references.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        return references.EnumerateArray()
            .Where(r => r.ValueKind == JsonValueKind.Object && Text(r, "source_name") == source)
            .Select(r => Text(r, "external_id"))
            .FirstOrDefault(e => e is not null);
    }

    private static string Summary(List<string> indicatorNames)
    {
        if (indicatorNames.Count == 0)
        {
            return "Shared over TAXII 2.1 as a STIX incident without a description.";
        }

        var summary = new StringBuilder("Shared over TAXII 2.1 as STIX indicators: ");
        var separator = string.Empty;
        foreach (var name in indicatorNames)
        {
            if (summary.Length + separator.Length + name.Length + 1 > AlertInputValidator.MaxSummary)
            {
                summary.Append(separator).Append('…');
                break;
            }

            summary.Append(separator).Append(name);
            separator = "; ";
        }

        return summary.Append('.').ToString();
    }

    private static string VersionOf(JsonElement stix) =>
        stix.ValueKind == JsonValueKind.Object ? Text(stix, "modified") ?? Text(stix, "created") ?? string.Empty : string.Empty;

    private static string? Text(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
