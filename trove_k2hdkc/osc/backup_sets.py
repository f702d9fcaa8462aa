"""``openstack database cluster backup create|list|show|delete|restore``.

Each command is one request to the backup-set resource of Trove's API
(``trove_k2hdkc.backupset.api``); errors are Trove's answers, shown as
troveclient shows any other.
"""

from __future__ import annotations

from typing import Any

from osc_lib.command import command

PATH = '/k2hdkc-backup-sets'
COLUMNS = ('ID', 'Name', 'Cluster ID', 'Status', 'Members', 'Size',
           'Created')


def _http(app: Any) -> Any:
    return app.client_manager.database.client


def _find(app: Any, name_or_id: str) -> dict[str, Any]:
    """A set by id, or by name when exactly one set has it."""
    listed = _http(app).get(PATH)[1]['backup_sets']
    by_id = [s for s in listed if s['id'] == name_or_id]
    named = [s for s in listed if s['name'] == name_or_id]
    if by_id:
        return by_id[0]
    if len(named) == 1:
        return named[0]
    if named:
        raise ValueError('%d backup sets are named %s; use an ID'
                         % (len(named), name_or_id))
    # Not in the list: let the API say (an admin may see other projects').
    return _http(app).get('%s/%s' % (PATH, name_or_id))[1]['backup_set']


def _show(found: dict[str, Any]) -> tuple[list[str], list[Any]]:
    members = '\n'.join(
        '%d: %s (instance %s) %s' % (m['index'], m['backup_id'],
                                     m['instance_id'], m['status'])
        for m in found['members'])
    data = {'id': found['id'], 'name': found['name'],
            'description': found.get('description'),
            'cluster_id': found['cluster_id'],
            'project_id': found['project_id'], 'status': found['status'],
            'member_count': found['member_count'], 'size': found['size'],
            'created': found['created'], 'members': members}
    return list(data), list(data.values())


class CreateBackupSet(command.ShowOne):
    """Back up every member of a K2HDKC cluster as one backup set."""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument('cluster', metavar='<cluster>',
                            help='ID of the cluster to back up.')
        parser.add_argument('name', metavar='<name>',
                            help='Name of the backup set.')
        parser.add_argument('--description', metavar='<description>',
                            help='A description of the set.')
        return parser

    def take_action(self, parsed_args: Any) -> Any:
        body = {'backup_set': {'cluster_id': parsed_args.cluster,
                               'name': parsed_args.name}}
        if parsed_args.description:
            body['backup_set']['description'] = parsed_args.description
        return _show(_http(self.app).post(PATH, body=body)[1]['backup_set'])


class ListBackupSets(command.Lister):
    """List the project's cluster backup sets."""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument('--project-id', metavar='<project>',
                            help='Sets of another project (admin only).')
        return parser

    def take_action(self, parsed_args: Any) -> Any:
        url = PATH + ('?project_id=%s' % parsed_args.project_id
                      if parsed_args.project_id else '')
        listed = _http(self.app).get(url)[1]['backup_sets']
        rows = [(s['id'], s['name'], s['cluster_id'], s['status'],
                 s['member_count'], s['size'], s['created'])
                for s in listed]
        return COLUMNS, rows


class ShowBackupSet(command.ShowOne):
    """Show a cluster backup set and its member backups."""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument('backup_set', metavar='<backup-set>',
                            help='ID or name of the backup set.')
        return parser

    def take_action(self, parsed_args: Any) -> Any:
        return _show(_find(self.app, parsed_args.backup_set))


class DeleteBackupSet(command.Command):
    """Delete a cluster backup set: its member backups and their Swift
    objects."""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument('backup_set', metavar='<backup-set>',
                            help='ID or name of the backup set.')
        return parser

    def take_action(self, parsed_args: Any) -> None:
        found = _find(self.app, parsed_args.backup_set)
        _http(self.app).delete('%s/%s' % (PATH, found['id']))


class RestoreBackupSet(command.ShowOne):
    """Create a new cluster from a backup set: one member per member
    backup, each loading its own in ring order."""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument('backup_set', metavar='<backup-set>',
                            help='ID or name of the backup set.')
        parser.add_argument('name', metavar='<name>',
                            help='Name of the new cluster.')
        parser.add_argument('--flavor', metavar='<flavor>', required=True,
                            help='Flavor ID of every member.')
        parser.add_argument('--size', metavar='<size>', type=int,
                            help='Volume size in GB of every member.')
        parser.add_argument('--nic', metavar='net-id=<net-id>',
                            help='Network of every member.')
        parser.add_argument('--availability-zone', metavar='<zone>',
                            help='Availability zone of every member.')
        return parser

    def take_action(self, parsed_args: Any) -> Any:
        found = _find(self.app, parsed_args.backup_set)
        node: dict[str, Any] = {'flavorRef': parsed_args.flavor}
        if parsed_args.size is not None:
            node['volume'] = {'size': parsed_args.size}
        if parsed_args.nic:
            key, _, value = parsed_args.nic.partition('=')
            if key != 'net-id' or not value:
                raise ValueError('--nic takes net-id=<network id>')
            node['nics'] = [{'net-id': value}]
        if parsed_args.availability_zone:
            node['availability_zone'] = parsed_args.availability_zone
        body = {'restore': {'name': parsed_args.name, 'instance': node}}
        cluster = _http(self.app).post('%s/%s/restore' % (PATH, found['id']),
                                       body=body)[1]['cluster']
        data = {'id': cluster['id'], 'name': cluster['name'],
                'task_name': cluster.get('task', {}).get('name'),
                'backup_set': found['id'],
                'instance_count': len(cluster.get('instances') or [])}
        return list(data), list(data.values())
