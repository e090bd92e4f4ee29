using Lethe.Resources;

namespace Lethe.Tests.Resources;

public sealed class AccessTests
{
    // Which role grants which right: the whole table, so that a change to one cell is a visible decision.
    private static readonly Dictionary<Role, Right[]> Granted = new()
    {
        [Role.Owner] = [Right.Read, Right.Write, Right.Delete, Right.Purge, Right.ManageAccess, Right.UseLab],
        [Role.Contributor] = [Right.Read, Right.Write, Right.UseLab],
        [Role.Reader] = [Right.Read],
        [Role.LabUser] = [Right.Read, Right.UseLab],
        [Role.PrivacyOfficer] = [Right.HandlePrivacyRequests],
        [Role.Purger] = [Right.Read, Right.Purge],
    };

    public static TheoryData<Role, Right, bool> EveryRoleAndRight
    {
        get
        {
            var data = new TheoryData<Role, Right, bool>();
            foreach (var role in Enum.GetValues<Role>())
            {
                foreach (var right in Enum.GetValues<Right>())
                {
                    data.Add(role, right, Granted[role].Contains(right));
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(EveryRoleAndRight))]
    public void A_role_grants_exactly_its_rights(Role role, Right right, bool granted)
        => Assert.Equal(granted, Access.Grants(role, right));

    [Theory]
    [MemberData(nameof(EveryRoleAndRight))]
    public void One_role_alone_allows_what_it_grants_and_otherwise_forbids_or_hides(Role role, Right right, bool granted)
    {
        var expected = granted ? AccessDecision.Allowed
            // A privacy officer's role does not make resources visible: without the right, they do not exist.
            : role == Role.PrivacyOfficer ? AccessDecision.NotFound
            : AccessDecision.Forbidden;

        Assert.Equal(expected, Access.Decide([role], right));
    }

    [Fact]
    public void Every_role_and_right_is_in_the_table() => Assert.Equal(Enum.GetValues<Role>().Order(), Granted.Keys.Order());

    [Fact]
    public void An_undefined_role_grants_nothing()
    {
        Assert.All(Enum.GetValues<Right>(), right => Assert.False(Access.Grants((Role)99, right)));
        // It is still a role somewhere above the resource, so the resource is visible.
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([(Role)99], Right.Read));
    }

    [Theory]
    [MemberData(nameof(Rights))]
    public void No_role_at_all_means_not_found(Right right) => Assert.Equal(AccessDecision.NotFound, Access.Decide([], right));

    [Fact]
    public void Any_role_that_grants_the_right_allows_whatever_else_is_held()
    {
        Assert.Equal(AccessDecision.Allowed, Access.Decide([Role.Reader, Role.Owner], Right.ManageAccess));
        Assert.Equal(AccessDecision.Allowed, Access.Decide([Role.Owner, Role.Reader], Right.ManageAccess));
        Assert.Equal(AccessDecision.Allowed, Access.Decide([Role.PrivacyOfficer, Role.Reader], Right.Read));
        Assert.Equal(AccessDecision.Allowed, Access.Decide([Role.Reader, Role.PrivacyOfficer], Right.HandlePrivacyRequests));
    }

    [Fact]
    public void Roles_that_see_but_do_not_grant_forbid()
    {
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([Role.Reader, Role.LabUser], Right.Write));
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([Role.Contributor], Right.Delete));
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([Role.PrivacyOfficer, Role.Reader], Right.Write));
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([Role.Reader, Role.PrivacyOfficer], Right.Write));
        // Owning the platform does not make one its privacy officer.
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([Role.Owner], Right.HandlePrivacyRequests));
    }

    [Fact]
    public void A_privacy_officer_alone_sees_no_resource()
    {
        Assert.Equal(AccessDecision.NotFound, Access.Decide([Role.PrivacyOfficer], Right.Read));
        Assert.Equal(AccessDecision.NotFound, Access.Decide([Role.PrivacyOfficer, Role.PrivacyOfficer], Right.Write));
    }

    [Fact]
    public void The_same_role_held_on_several_scopes_decides_like_once()
    {
        Assert.Equal(AccessDecision.Allowed, Access.Decide([Role.Reader, Role.Reader, Role.Reader], Right.Read));
        Assert.Equal(AccessDecision.Forbidden, Access.Decide([Role.Reader, Role.Reader], Right.Write));
    }

    public static TheoryData<Right> Rights => new(Enum.GetValues<Right>());
}
