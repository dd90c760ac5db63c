"""lockerhub connector for IoT locker cabinets over MQTT (see ``connector.py``)."""

from lockerhub_mqtt_cabinet.config import MqttCabinetConfig
from lockerhub_mqtt_cabinet.connector import CabinetEvent, MqttCabinetConnector

__all__ = ["CabinetEvent", "MqttCabinetConfig", "MqttCabinetConnector"]
