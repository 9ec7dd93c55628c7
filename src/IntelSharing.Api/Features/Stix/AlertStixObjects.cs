using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Json;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// One alert version as STIX 2.1 objects (docs/stix-taxii.md has the full mapping). Ids derive from the alert id and
/// each object's role, created/modified from the alert's first and current versions, and every object carries the
/// alert's official TLP 2.0 marking and, where the originator made it, IntelSharing's handling extension: H1/H3
/// conditions travel with every object, not only with the bundle.
/// </summary>
public sealed class AlertStixObjects
{
    private readonly List<JsonObject> objects = [];
    private readonly Guid alertId;
    private readonly string originatorId;
    private readonly string marking;
    private readonly string created;
    private readonly string modified;
    private readonly bool revoked;

    /// <summary>The handling extension every object of this alert carries.</summary>
    private JsonObject handling = [];

    private AlertStixObjects(Guid alertId, Guid originator, Tlp tlp, DateTimeOffset created, DateTimeOffset modified, bool revoked)
    {
        this.alertId = alertId;
        originatorId = OriginatorIdentityId(originator);
        marking = StixDefinitions.MarkingId(tlp);
        this.created = StixDefinitions.Timestamp(created);
        this.modified = StixDefinitions.Timestamp(modified);
        this.revoked = revoked;
    }

    public static string OriginatorIdentityId(Guid agencyId) => StixIds.Shared("identity", $"agency:{agencyId:D}");

    public static string ReportId(Guid alertId) => StixIds.ForAlert("report", alertId, "report");

    /// <summary>
    /// The objects of an alert. <paramref name="revokedAt"/> is set when the alert was revoked: its last content is
    /// exported once more, every object the originator made marked <c>revoked: true</c> as of then. Persons are
    /// included only when <paramref name="includePersons"/> (the caller stated a purpose) and never for a revoked alert.
    /// </summary>
    public static List<JsonObject> FromAlert(AlertView alert, DateTimeOffset? revokedAt, bool includePersons)
    {
        var stix = new AlertStixObjects(alert.Id, alert.Originator.Id, alert.Tlp, alert.CreatedAt, revokedAt ?? alert.UpdatedAt, revokedAt is not null);
        stix.Build(alert, includePersons && revokedAt is null);
        return stix.objects;
    }

    /// <summary>
    /// An alert whose content is gone (expired, or revoked with no earlier content to name): the report and the
    /// alert's main object once more, revoked, so that a partner's copies are withdrawn under the same ids.
    /// </summary>
    public static List<JsonObject> FromTombstone(AlertTombstone tombstone, Tlp tlp)
    {
        var stix = new AlertStixObjects(tombstone.Id, tombstone.Originator.Id, tlp, tombstone.CreatedAt, tombstone.UpdatedAt, revoked: true);
        var status = WireNames.Of(tombstone.Status);
        stix.AddCommon(tlp, tombstone.Originator);
        stix.handling = new JsonObject { ["extension_type"] = "property-extension", ["alert_id"] = tombstone.Id.ToString(), ["alert_version"] = tombstone.Version, ["status"] = status };
        _ = tombstone.Category == AlertCategory.CyberIncident
            ? stix.Add("incident", "subject", new JsonObject { ["name"] = $"IntelSharing alert {tombstone.Id} ({status})", ["description"] = tombstone.Reason }, stix.Handling())
            : stix.Add("intrusion-set", "subject", new JsonObject { ["name"] = $"IntelSharing alert {tombstone.Id} ({status})", ["description"] = tombstone.Reason }, stix.Handling());
        stix.AddReport($"IntelSharing alert {tombstone.Id} ({status})", tombstone.Reason);
        return stix.objects;
    }

    /// <summary>A bundle of the objects; its id is stable for one alert version.</summary>
    public static JsonObject Bundle(Guid alertId, int version, IEnumerable<JsonObject> objects) => new()
    {
        ["type"] = "bundle",
        ["id"] = StixIds.ForAlert("bundle", alertId, $"bundle:{version.ToString(CultureInfo.InvariantCulture)}"),
        ["objects"] = new JsonArray([.. objects]),
    };

    private void Build(AlertView alert, bool includePersons)
    {
        handling = HandlingOf(alert);
        if (revoked)
        {
            handling["status"] = WireNames.Of(AlertStatus.Revoked);
        }
        AddCommon(alert.Tlp, alert.Originator);

        string subject;
        if (alert.Category == AlertCategory.CyberIncident)
        {
            subject = Add("incident", "subject", new JsonObject
            {
                ["name"] = alert.Title,
                ["description"] = alert.Summary,
                ["extensions"] = new JsonObject { [StixDefinitions.IncidentCoreExtensionId] = IncidentCore(alert) },
            }, Handling());
            foreach (var technique in alert.Cyber?.AttackTechniques ?? [])
            {
                var attackPattern = Add("attack-pattern", $"attack-pattern:{technique}", new JsonObject
                {
                    ["name"] = technique,
                    ["external_references"] = new JsonArray(new JsonObject
                    {
                        ["source_name"] = "mitre-attack",
                        ["external_id"] = technique,
                        ["url"] = $"https://attack.mitre.org/techniques/{technique.Replace('.', '/')}/",
                    }),
                }, Handling());
                Relate(subject, "uses", attackPattern, null);
            }

            foreach (var cve in alert.Cyber?.Cves ?? [])
            {
                var vulnerability = Add("vulnerability", $"vulnerability:{cve}", new JsonObject
                {
                    ["name"] = cve,
                    ["external_references"] = new JsonArray(new JsonObject
                    {
                        ["source_name"] = "cve",
                        ["external_id"] = cve,
                        ["url"] = $"https://www.cve.org/CVERecord?id={cve}",
                    }),
                }, Handling());
                Relate(subject, "related-to", vulnerability, "The incident exploits or concerns this vulnerability.");
            }
        }
        else
        {
            var smuggling = alert.Smuggling;
            subject = Add("intrusion-set", "subject", new JsonObject
            {
                ["name"] = alert.Title,
                ["description"] = SmugglingDescription(alert),
                ["goals"] = new JsonArray("migrant smuggling"),
            }, Handling());
            foreach (var network in smuggling?.NetworkNames ?? [])
            {
                var actor = Add("threat-actor", $"threat-actor:{network}", new JsonObject
                {
                    ["name"] = network,
                    ["threat_actor_types"] = new JsonArray("crime-syndicate"),
                    ["primary_motivation"] = "organizational-gain",
                }, Handling());
                Relate(subject, "attributed-to", actor, null);
            }

            var route = smuggling?.Route ?? [];
            for (var step = 0; step < route.Count; step++)
            {
                var place = Add("location", $"route:{step}", new JsonObject { ["name"] = route[step].Place, ["country"] = route[step].Country }, Handling());
                Relate(subject, "related-to", place, $"Route, step {step + 1} of {route.Count}.");
            }

            foreach (var crossing in smuggling?.CrossingPoints ?? [])
            {
                var point = Add("location", $"crossing:{crossing.Name}", new JsonObject
                {
                    ["name"] = crossing.Name,
                    ["country"] = crossing.Countries![0],
                    ["description"] = $"Border crossing point between {string.Join(" and ", crossing.Countries!)}.",
                }, Handling());
                Relate(subject, "related-to", point, "Crossing point.");
            }

        }

        foreach (var country in alert.Countries)
        {
            var location = Add("location", $"country:{country}", new JsonObject { ["name"] = country, ["country"] = country }, Handling());
            Relate(subject, alert.Category == AlertCategory.CyberIncident ? "related-to" : "targets", location, "A country the alert concerns.");
        }

        foreach (var indicator in alert.Indicators)
        {
            AddIndicator(alert, indicator, subject);
        }

        if (includePersons)
        {
            for (var i = 0; i < alert.Persons.Count; i++)
            {
                var person = alert.Persons[i];
                var personHandling = Handling();
                personHandling["data_subject"] = DataSubjectOf(person);
                var identity = Add("identity", $"person:{i}", new JsonObject
                {
                    ["name"] = person.FullName,
                    ["identity_class"] = "individual",
                }, personHandling);
                Relate(subject, "related-to", identity, $"Person named in the alert ({WireNames.Of(person.Category!.Value)}).");
            }
        }

        AddReport(alert.Title, alert.Summary);
    }

    private void AddIndicator(AlertView alert, IndicatorView indicator, string subject)
    {
        var type = WireNames.Of(indicator.Type);
        if (StixPattern.For(indicator.Type, indicator.Value) is { } pattern)
        {
            var properties = new JsonObject
            {
                ["name"] = $"{type} {indicator.Value}",
                ["indicator_types"] = new JsonArray("malicious-activity"),
                ["pattern"] = pattern,
                ["pattern_type"] = "stix",
                ["pattern_version"] = StixDefinitions.SpecVersion,
                ["valid_from"] = StixDefinitions.Timestamp(alert.ObservedAt ?? alert.CreatedAt),
            };
            if (indicator.Description is not null)
            {
                properties["description"] = indicator.Description;
            }

            var id = Add("indicator", $"indicator:{type}:{indicator.Value}", properties, Handling());
            Relate(id, alert.Category == AlertCategory.CyberIncident ? "related-to" : "indicates", subject, null);
            return;
        }

        // Observables are facts about the world, not claims by the originator: no created/modified/created_by_ref
        // (STIX 2.1 §6), an id from their contributing properties, never revoked.
        var canonical = JsonSerializer.Serialize(new SortedDictionary<string, string>(StringComparer.Ordinal) { ["identifier_type"] = type, ["value"] = indicator.Value }, StixDefinitions.Json);
        var observableId = StixIds.ForObservable(StixDefinitions.IdentifierType, canonical);
        if (!objects.Exists(o => (string?)o["id"] == observableId))
        {
            objects.Add(new JsonObject
            {
                ["type"] = StixDefinitions.IdentifierType,
                ["spec_version"] = StixDefinitions.SpecVersion,
                ["id"] = observableId,
                ["identifier_type"] = type,
                ["value"] = indicator.Value,
                ["object_marking_refs"] = new JsonArray(marking),
                ["extensions"] = new JsonObject { [StixDefinitions.IdentifierExtensionId] = new JsonObject { ["extension_type"] = "new-sco" } },
            });
        }

        Relate(subject, "related-to", observableId, indicator.Description ?? $"Identifier ({type}) named in the alert.");
    }

    private void AddCommon(Tlp tlp, AgencyRef originator)
    {
        objects.Add(StixDefinitions.Marking(tlp));
        if (tlp != Tlp.Clear)
        {
            objects.Add(StixDefinitions.Marking(Tlp.Clear));
        }

        objects.Add(StixDefinitions.SystemIdentity());
        objects.Add(StixDefinitions.HandlingExtension());
        objects.Add(StixDefinitions.IdentifierExtension());

        // The agency's identity is shared by all its alerts; it is dated by its first alert in this export and is
        // never revoked with an alert.
        objects.Add(new JsonObject
        {
            ["type"] = "identity",
            ["spec_version"] = StixDefinitions.SpecVersion,
            ["id"] = originatorId,
            ["created"] = created,
            ["modified"] = created,
            ["name"] = originator.Name,
            ["description"] = $"Partner agency of IntelSharing, country {originator.Country}.",
            ["identity_class"] = "organization",
            ["object_marking_refs"] = new JsonArray(StixDefinitions.MarkingId(Tlp.Clear)),
        });
    }

    /// <summary>The report groups everything the alert says; shared definitions are referenced by id only.</summary>
    private void AddReport(string name, string description)
    {
        var refs = objects
            .Where(o => (string?)o["type"] is not ("marking-definition" or "extension-definition") && (string?)o["id"] != StixDefinitions.SystemIdentityId)
            .Select(o => (JsonNode)(string)o["id"]!)
            .ToArray();
        Add("report", "report", new JsonObject
        {
            ["name"] = name,
            ["description"] = description,
            ["report_types"] = new JsonArray("threat-report"),
            ["published"] = created,
            ["object_refs"] = new JsonArray(refs),
            ["external_references"] = new JsonArray(new JsonObject
            {
                ["source_name"] = "intelsharing",
                ["external_id"] = alertId.ToString(),
                ["description"] = "The alert in IntelSharing: GET /api/v1/alerts/{external_id}.",
            }),
        }, Handling());
    }

    private JsonObject Handling() => handling.DeepClone().AsObject();

    /// <summary>Adds an object the originator made, with the common properties, and returns its id.</summary>
    private string Add(string type, string role, JsonObject properties, JsonObject extension)
    {
        var id = StixIds.ForAlert(type, alertId, role);
        var stix = new JsonObject
        {
            ["type"] = type,
            ["spec_version"] = StixDefinitions.SpecVersion,
            ["id"] = id,
            ["created_by_ref"] = originatorId,
            ["created"] = created,
            ["modified"] = modified,
        };
        foreach (var (name, value) in properties.ToList())
        {
            properties.Remove(name);
            stix[name] = value;
        }

        if (revoked)
        {
            stix["revoked"] = true;
        }

        stix["object_marking_refs"] = new JsonArray(marking);
        var extensions = stix["extensions"] as JsonObject ?? [];
        extensions[StixDefinitions.HandlingExtensionId] = extension;
        stix["extensions"] = extensions;
        objects.Add(stix);
        return id;
    }

    private void Relate(string source, string relationship, string target, string? description)
    {
        var properties = new JsonObject { ["relationship_type"] = relationship, ["source_ref"] = source, ["target_ref"] = target };
        if (description is not null)
        {
            properties["description"] = description;
        }

        Add("relationship", $"relationship:{source}:{relationship}:{target}", properties, Handling());
    }

    private static JsonObject HandlingOf(AlertView alert)
    {
        var handling = new JsonObject
        {
            ["extension_type"] = "property-extension",
            ["alert_id"] = alert.Id.ToString(),
            ["alert_version"] = alert.Version,
            ["status"] = WireNames.Of(alert.Status),
            ["handling_code"] = WireNames.Of(alert.Handling.Code!.Value),
            ["source_reliability"] = WireNames.Of(alert.Evaluation.Source!.Value),
            ["information_assessment"] = WireNames.Of(alert.Evaluation.Information!.Value),
            ["basis"] = WireNames.Of(alert.Basis),
            ["severity"] = WireNames.Of(alert.Severity),
        };
        if (alert.Handling.Conditions is not null)
        {
            handling["handling_conditions"] = alert.Handling.Conditions;
        }

        if (alert.ReviewAt is { } reviewAt)
        {
            handling["review_at"] = StixDefinitions.Timestamp(reviewAt);
        }

        if (alert.ExpiresAt is { } expiresAt)
        {
            handling["expires_at"] = StixDefinitions.Timestamp(expiresAt);
        }

        return handling;
    }

    private static string SmugglingDescription(AlertView alert)
    {
        var description = alert.Summary;
        if (alert.Smuggling?.ModusOperandi is { } modus)
        {
            description += $"\n\nModus operandi: {modus}";
        }

        if (alert.Smuggling?.EstimatedPeople is { } people)
        {
            description += $"\n\nEstimated number of people: {people.ToString(CultureInfo.InvariantCulture)}.";
        }

        return description;
    }

    private static JsonObject DataSubjectOf(Person person)
    {
        var subject = new JsonObject { ["category"] = WireNames.Of(person.Category!.Value) };
        if (person.DateOfBirth is { } born)
        {
            subject["date_of_birth"] = born.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        if (person.Nationality is not null)
        {
            subject["nationality"] = person.Nationality;
        }

        if (person.Aliases is { Count: > 0 } aliases)
        {
            subject["aliases"] = new JsonArray([.. aliases.Select(a => (JsonNode)a!)]);
        }

        return subject;
    }

    /// <summary>
    /// The OASIS incident-core extension where its vocabulary fits: a fact is a confirmed incident, an assessment a
    /// suspected one; severity becomes criticality (0–100); the incident type keeps IntelSharing's name.
    /// </summary>
    private static JsonObject IncidentCore(AlertView alert) => new()
    {
        ["extension_type"] = "property-extension",
        ["determination"] = alert.Basis == Basis.Fact ? "confirmed" : "suspected",
        ["investigation_status"] = "open",
        ["criticality"] = (int)alert.Severity * 25,
        ["incident_types"] = new JsonArray(WireNames.Of(alert.Cyber!.IncidentType!.Value)),
    };
}
