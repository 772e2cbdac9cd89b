"""The Glue Data Catalog and Lake Formation governance of the lake.

Each e360 zone is a Glue database named after the zone (e360 uses zone names as Iceberg
namespaces). The databases are Lake Formation-managed (no IAMAllowedPrincipals default grant),
tagged with LF-tags `domain` and `sensitivity`, and the stewards and domain readers get
tag-based grants. Service roles get name-based grants through `grant_zones`, next to the role.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lakeformation as lakeformation
from constructs import Construct

from e360_infra.config import ZONES, EnvironmentConfig, Sensitivity, Zone
from e360_infra.constructs.common import removal_policy
from e360_infra.constructs.lake import Lake, grant_bucket
from e360_infra.e360_settings import ZONE_BUCKET, zone_location

DOMAIN_TAG = "domain"
SENSITIVITY_TAG = "sensitivity"
SENSITIVITIES: tuple[Sensitivity, ...] = ("public", "internal", "confidential", "pii")

READ_TABLE = ["SELECT", "DESCRIBE"]
WRITE_TABLE = ["SELECT", "DESCRIBE", "INSERT", "DELETE", "ALTER", "DROP"]


def glue_arns(stack: cdk.Stack, zones: Sequence[Zone]) -> list[str]:
    """The catalog, the zone databases and every table in them."""
    arns = [stack.format_arn(service="glue", resource="catalog")]
    for zone in zones:
        arns.append(stack.format_arn(service="glue", resource="database", resource_name=zone))
        arns.append(stack.format_arn(service="glue", resource="table", resource_name=f"{zone}/*"))
    return arns


def grant_glue(role: iam.IRole, zones: Sequence[Zone], *, write: bool) -> None:
    """IAM side of catalog access (Lake Formation grants are the other side)."""
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables"]
    if write:
        # CreateDatabase: e360 creates its zone namespaces idempotently ("already exists" is
        # fine), on these database names only.
        actions += [
            "glue:CreateDatabase",
            "glue:CreateTable",
            "glue:UpdateTable",
            "glue:DeleteTable",
        ]
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=actions, resources=glue_arns(cdk.Stack.of(role), zones))
    )


def grant_zones(
    scope: Construct,
    construct_id: str,
    *,
    env: EnvironmentConfig,
    role: iam.IRole,
    zones: Sequence[Zone],
    write: bool,
) -> list[lakeformation.CfnPrincipalPermissions]:
    """Lake Formation grants of a service role on zone databases, their tables and locations."""
    account = cdk.Stack.of(scope).account
    principal = lakeformation.CfnPrincipalPermissions.DataLakePrincipalProperty(
        data_lake_principal_identifier=role.role_arn
    )
    grants: list[lakeformation.CfnPrincipalPermissions] = []
    holder = Construct(scope, construct_id)
    for zone in zones:
        grants.append(
            lakeformation.CfnPrincipalPermissions(
                holder,
                f"{zone.title()}Database",
                catalog=account,
                principal=principal,
                permissions=["DESCRIBE", "CREATE_TABLE", "ALTER"] if write else ["DESCRIBE"],
                permissions_with_grant_option=[],
                resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
                    database=lakeformation.CfnPrincipalPermissions.DatabaseResourceProperty(
                        catalog_id=account, name=zone
                    )
                ),
            )
        )
        grants.append(
            lakeformation.CfnPrincipalPermissions(
                holder,
                f"{zone.title()}Tables",
                catalog=account,
                principal=principal,
                permissions=WRITE_TABLE if write else READ_TABLE,
                permissions_with_grant_option=[],
                resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
                    table=lakeformation.CfnPrincipalPermissions.TableResourceProperty(
                        catalog_id=account, database_name=zone, table_wildcard={}
                    )
                ),
            )
        )
    if write:
        for purpose in sorted({ZONE_BUCKET[zone] for zone in zones}):
            grants.append(
                lakeformation.CfnPrincipalPermissions(
                    holder,
                    f"{purpose.title()}Location",
                    catalog=account,
                    principal=principal,
                    permissions=["DATA_LOCATION_ACCESS"],
                    permissions_with_grant_option=[],
                    resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
                        data_location=lakeformation.CfnPrincipalPermissions.DataLocationResourceProperty(
                            catalog_id=account,
                            resource_arn=location_arn(cdk.Stack.of(scope), env, purpose),
                        )
                    ),
                )
            )
    # Lake Formation rejects concurrent grant changes for one principal: apply them in turn.
    for previous, grant in itertools.pairwise(grants):
        grant.add_resource_dependency(previous)
    return grants


def location_arn(stack: cdk.Stack, env: EnvironmentConfig, purpose: str) -> str:
    """The registered Lake Formation location of a lake bucket: its Iceberg warehouse prefix."""
    return f"arn:{stack.partition}:s3:::{env.bucket_name(purpose)}/{env.lake.warehouse_prefix}"


class Catalog(Construct):
    """Glue databases per zone, Lake Formation settings, locations, LF-tags and persona grants."""

    def __init__(
        self, scope: Construct, construct_id: str, *, env: EnvironmentConfig, lake: Lake
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        account = stack.account
        config = env.governance

        self.settings: lakeformation.CfnDataLakeSettings | None = None
        if config.manage_data_lake_settings:
            admins = [_cfn_execution_role_arn(stack), *config.admin_arns]
            # APPEND adds our admins and leaves the account's existing ones in place.
            self.settings = lakeformation.CfnDataLakeSettings(
                self,
                "Settings",
                mutation_type="APPEND",
                admins=[
                    lakeformation.CfnDataLakeSettings.DataLakePrincipalProperty(
                        data_lake_principal_identifier=arn
                    )
                    for arn in admins
                ],
            )

        # Lake Formation reads and writes registered locations with this role.
        self.location_role = iam.Role(
            self,
            "LocationRole",
            role_name=f"{env.prefix}-lakeformation-locations",
            description="Lake Formation data access to the e360 lake locations",
            assumed_by=iam.ServicePrincipal(
                "lakeformation.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            ),
        )
        self.locations: list[lakeformation.CfnResource] = []
        for purpose in ("raw", "master"):
            grant_bucket(self.location_role, env, purpose, key_arn=lake.key.key_arn, write=True)
            location = lakeformation.CfnResource(
                self,
                f"{purpose.title()}Location",
                resource_arn=location_arn(stack, env, purpose),
                role_arn=self.location_role.role_arn,
                use_service_linked_role=False,
                hybrid_access_enabled=False,
            )
            self._after_settings(location)
            self.locations.append(location)

        self.databases: dict[Zone, glue.CfnDatabase] = {}
        for zone in ZONES:
            database = glue.CfnDatabase(
                self,
                f"{zone.title()}Database",
                catalog_id=account,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=zone,
                    description=f"e360 {zone} zone (Iceberg tables)",
                    location_uri=zone_location(env, zone),
                    # Lake Formation permissions only: no IAMAllowedPrincipals grant on new tables.
                    create_table_default_permissions=[],
                ),
            )
            database.apply_removal_policy(removal_policy(env))
            self.databases[zone] = database

        self.domain_tag = lakeformation.CfnTag(
            self, "DomainTag", catalog_id=account, tag_key=DOMAIN_TAG, tag_values=config.domains
        )
        self.sensitivity_tag = lakeformation.CfnTag(
            self,
            "SensitivityTag",
            catalog_id=account,
            tag_key=SENSITIVITY_TAG,
            tag_values=list(SENSITIVITIES),
        )
        self.tags = [self.domain_tag, self.sensitivity_tag]
        for tag in self.tags:
            self._after_settings(tag)
        self.tag_associations: list[lakeformation.CfnTagAssociation] = []
        for zone, database in self.databases.items():
            association = lakeformation.CfnTagAssociation(
                self,
                f"{zone.title()}Tags",
                resource=lakeformation.CfnTagAssociation.ResourceProperty(
                    database=lakeformation.CfnTagAssociation.DatabaseResourceProperty(
                        catalog_id=account, name=zone
                    )
                ),
                lf_tags=[
                    lakeformation.CfnTagAssociation.LFTagPairProperty(
                        catalog_id=account, tag_key=DOMAIN_TAG, tag_values=[config.zone_domain]
                    ),
                    lakeformation.CfnTagAssociation.LFTagPairProperty(
                        catalog_id=account,
                        tag_key=SENSITIVITY_TAG,
                        tag_values=[config.zone_sensitivity[zone]],
                    ),
                ],
            )
            association.add_resource_dependency(database)
            for tag in self.tags:
                association.add_resource_dependency(tag)
            self.tag_associations.append(association)

        # Personas: people assume these roles (map them to SSO permission sets) to query the
        # lake through Athena or Redshift Spectrum; Lake Formation decides which tables.
        self.stewards_role = self._persona(
            env,
            "Stewards",
            "stewards",
            "Data stewards: read every e360 zone, PII included",
            {DOMAIN_TAG: [config.zone_domain]},
        )
        self.domain_readers_role = self._persona(
            env,
            "DomainReaders",
            "domain-readers",
            "Domain teams: read e360 tables below PII sensitivity",
            {SENSITIVITY_TAG: list(config.domain_reader_sensitivities)},
        )

    def _after_settings(self, resource: cdk.CfnResource) -> None:
        if self.settings is not None:
            resource.add_resource_dependency(self.settings)

    def _persona(
        self,
        env: EnvironmentConfig,
        construct_id: str,
        name: str,
        description: str,
        expression: dict[str, list[str]],
    ) -> iam.Role:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            construct_id,
            role_name=f"{env.prefix}-{name}",
            description=description,
            assumed_by=iam.AccountRootPrincipal(),
            max_session_duration=cdk.Duration.hours(4),
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetDatabases",
                    "glue:GetTable",
                    "glue:GetTables",
                ],
                resources=glue_arns(stack, ZONES),
            )
        )
        # Lake Formation vends short-lived S3 credentials for the granted tables only.
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"])
        )
        principal = lakeformation.CfnPrincipalPermissions.DataLakePrincipalProperty(
            data_lake_principal_identifier=role.role_arn
        )
        lf_expression = [
            lakeformation.CfnPrincipalPermissions.LFTagProperty(tag_key=key, tag_values=values)
            for key, values in expression.items()
        ]
        previous: cdk.CfnResource | None = None
        for resource_type, permissions in (("DATABASE", ["DESCRIBE"]), ("TABLE", READ_TABLE)):
            grant = lakeformation.CfnPrincipalPermissions(
                self,
                f"{construct_id}{resource_type.title()}Grant",
                catalog=stack.account,
                principal=principal,
                permissions=permissions,
                permissions_with_grant_option=[],
                resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
                    lf_tag_policy=lakeformation.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                        catalog_id=stack.account,
                        resource_type=resource_type,
                        expression=lf_expression,
                    )
                ),
            )
            for dependency in [*self.tags, *self.tag_associations]:
                grant.add_resource_dependency(dependency)
            if previous is not None:
                grant.add_resource_dependency(previous)
            previous = grant
        return role


def _cfn_execution_role_arn(stack: cdk.Stack) -> str:
    """The role CloudFormation deploys with (CDK bootstrap); it must be a Lake Formation admin to
    create tags and grants."""
    synthesizer = stack.synthesizer
    if isinstance(synthesizer, cdk.DefaultStackSynthesizer):
        return cdk.Fn.sub(synthesizer.cloud_formation_execution_role_arn)
    raise TypeError("the e360 stacks expect the default stack synthesizer (cdk bootstrap)")
