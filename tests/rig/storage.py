"""Cinder, Glance and Swift look-alikes for the rig.

Volumes are directories under ``<state>/volumes/<id>`` (bind-mounted as the
guest's data folder when attached); the only image is the k2hdkc guest
image the datastore versions point at. Swift is a real one when its
packages are installed (``launcher.start_swift``, Trove's own client);
without them ``SwiftClient`` stands in and says so instead of failing
obscurely.
"""

from __future__ import annotations

import datetime
import shutil
from typing import Any
import uuid

from cinderclient import exceptions as cinder_exc
from glanceclient import exc as glance_exc

from tests.rig import state


class Volume:
    def __init__(self, info: dict[str, Any], manager: VolumeManager):
        self._info = dict(info)
        self.__dict__.update(info)
        self._manager = manager

    def delete(self) -> None:
        self._manager.delete(self.id)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._info)


class VolumeManager:
    def create(self, size: int, name: str | None = None,
               description: str | None = None,
               volume_type: str | None = None,
               availability_zone: str | None = None,
               snapshot_id: str | None = None, imageRef: str | None = None,
               **kwargs: Any) -> Volume:
        if snapshot_id:
            raise cinder_exc.BadRequest(400, 'The rig has no snapshots.')
        vol = {'id': str(uuid.uuid4()), 'size': int(size), 'name': name,
               'description': description, 'volume_type': volume_type,
               'availability_zone': availability_zone or 'nova',
               'status': 'available', 'attachments': [],
               'bootable': bool(imageRef),
               'created_at': datetime.datetime.now(
                   datetime.UTC).isoformat()}
        root = state.state_dir()
        (root / 'volumes' / vol['id']).mkdir(parents=True)
        with state.locked_cloud(root) as cloud:
            cloud['volumes'][vol['id']] = vol
        return Volume(vol, self)

    def get(self, volume_id: str) -> Volume:
        vol = state.read_cloud()['volumes'].get(volume_id)
        if vol is None:
            raise cinder_exc.NotFound(404, 'Volume %s could not be found.'
                                      % volume_id)
        return Volume(vol, self)

    def list(self, detailed: bool = True,
             search_opts: dict[str, Any] | None = None,
             **kwargs: Any) -> list[Volume]:
        wanted = (search_opts or {}).get('name')
        return [Volume(v, self)
                for v in state.read_cloud()['volumes'].values()
                if wanted is None or v['name'] == wanted]

    def delete(self, volume: Any) -> None:
        volume_id = str(getattr(volume, 'id', volume))
        root = state.state_dir()
        with state.locked_cloud(root) as cloud:
            vol = cloud['volumes'].get(volume_id)
            if vol is None:
                raise cinder_exc.NotFound(404, 'Volume %s could not be '
                                          'found.' % volume_id)
            if vol['attachments']:
                raise cinder_exc.BadRequest(400, 'Volume %s is in use.'
                                            % volume_id)
            del cloud['volumes'][volume_id]
        shutil.rmtree(root / 'volumes' / volume_id, ignore_errors=True)

    def extend(self, volume: Any, new_size: int) -> None:
        volume_id = str(getattr(volume, 'id', volume))
        with state.locked_cloud() as cloud:
            cloud['volumes'][volume_id]['size'] = int(new_size)


class VolumeTypeManager:
    def list(self, **kwargs: Any) -> list[Any]:
        return []


class CinderClient:
    def __init__(self) -> None:
        self.volumes = VolumeManager()
        self.volume_types = VolumeTypeManager()


class Image(dict):
    """glanceclient v2 images are dicts with attribute access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


class ImageManager:
    def _images(self) -> list[Image]:
        return [Image(i) for i in state.rig_info()['images']]

    def get(self, image_id: str) -> Image:
        for image in self._images():
            if image['id'] == image_id:
                return image
        raise glance_exc.HTTPNotFound('No image found with ID %s'
                                      % image_id)

    def list(self, filters: dict[str, Any] | None = None,
             sort: str | None = None, limit: int | None = None,
             **kwargs: Any) -> list[Image]:
        tags = set((filters or {}).get('tag') or [])
        out = [i for i in self._images() if tags <= set(i['tags'])]
        return out[:limit] if limit else out


class GlanceClient:
    def __init__(self) -> None:
        self.images = ImageManager()


class SwiftClient:
    """Trove only reaches Swift for backups, which a rig without Swift's
    packages cannot run."""

    url = 'http://127.0.0.1:9/rig-has-no-swift'

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError('the rig has no Swift (called %s)' % name)
