using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>
/// A named set of agencies that an alert's audience can name instead of listing them, e.g. "Western Balkans
/// route — border police". Naming a group shares the alert with its active members at publication.
/// </summary>
/// <summary>One page of sharing groups; <c>nextCursor</c> is null on the last page.</summary>
public sealed record SharingGroupPage(IReadOnlyList<SharingGroupView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

public sealed record SharingGroupView(
    Guid Id, string Name, string? Description, SharingGroupVisibility Visibility, IReadOnlyList<SharingGroupMember> Members, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A member agency. An inactive member stays listed but receives nothing while it is inactive.</summary>
public sealed record SharingGroupMember(Guid Id, string Name, string Country, bool IsActive);

public sealed record SharingGroupInput
{
    /// <summary>Unique, at most 200 characters.</summary>
    [Required] public string? Name { get; init; }

    /// <summary>What the group is for, at most 2,000 characters.</summary>
    public string? Description { get; init; }

    /// <summary>Ids of the member agencies (may be empty).</summary>
    [Required] public IReadOnlyList<Guid>? Members { get; init; }

    /// <summary>
    /// <c>public</c> (every agency sees the group and its members) or <c>private</c> (only members and operators do, and
    /// only members may name it). Omitted: <c>public</c> when creating, unchanged when replacing.
    /// </summary>
    public SharingGroupVisibility? Visibility { get; init; }
}

public sealed class SharingGroupInputValidator : AbstractValidator<SharingGroupInput>
{
    public const int MaxMembers = 500;

    public SharingGroupInputValidator()
    {
        RuleFor(g => g.Name).NotEmpty().MaximumLength(200).SingleLineText();
        RuleFor(g => g.Description).MaximumLength(2000).MultiLineText();
        RuleFor(g => g.Members).NotNull().WithMessage("members is required (an empty list is allowed).");
        RuleFor(g => g.Members).Cascade(CascadeMode.Stop).AtMost(MaxMembers, "members").Unique("Members");
    }
}
