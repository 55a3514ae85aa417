"""Launch the deer_vla early-exit VLA policy node.

    ros2 launch deer_vla deer_vla.launch.py [params_file:=...] [model:=...]
        [namespace:=...] [static_image_topic:=...] [gripper_image_topic:=...]
        [instruction_topic:=...] [action_topic:=...] [use_sim_time:=true]
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    arg = LaunchConfiguration
    args = [
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([FindPackageShare('deer_vla'), 'params', 'deer_vla.yaml']),
            description='ROS 2 parameter YAML for the node'),
        DeclareLaunchArgument('model', default_value='', description='model folder; empty: the default model'),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the node and its topics'),
        DeclareLaunchArgument('static_image_topic', default_value='static_image',
                              description='static camera, sensor_msgs/Image (and <topic>/compressed)'),
        DeclareLaunchArgument('gripper_image_topic', default_value='gripper_image',
                              description='gripper camera, sensor_msgs/Image (and <topic>/compressed)'),
        DeclareLaunchArgument('instruction_topic', default_value='instruction',
                              description='language instruction, std_msgs/String'),
        DeclareLaunchArgument('action_topic', default_value='action',
                              description='7-DoF actions out, deer_vla_msgs/Action'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='follow /clock, e.g. from ros2 bag play --clock'),
    ]
    remap = []
    for name in ('static_image', 'gripper_image'):
        remap.append((name, arg(name + '_topic')))
        remap.append((name + '/compressed', [arg(name + '_topic'), '/compressed']))
    remap += [('instruction', arg('instruction_topic')), ('action', arg('action_topic'))]
    node = Node(
        package='deer_vla',
        executable='deer_vla',
        name='deer_vla',
        namespace=arg('namespace'),
        parameters=[
            arg('params_file'),
            {
                'model.path': ParameterValue(arg('model'), value_type=str),
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
            },
        ],
        remappings=remap,
        output='screen',
    )
    return LaunchDescription(args + [node])
