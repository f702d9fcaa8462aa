"""A local Trove on one machine: the project's functional test bed and demo.

Test/demo tooling, not product: real trove-api, trove-taskmanager,
trove-conductor and guest agents, with Nova/Neutron/Cinder/Glance replaced
by network namespaces and directories (see launcher.py, nova.py, vm.py).
"""
